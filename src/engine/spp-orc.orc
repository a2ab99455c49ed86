# Element-wise and pixel kernels of libspp. orcc turns this into
# spp-orc.c (SIMD code generated at run time, plus backup C).

.function spp_orc_u8_to_f32_norm
.dest 4 d1 float
.source 1 s1 guint8
.floatparam 4 mean
.floatparam 4 inv_std
.temp 2 t16
.temp 4 t32
.temp 4 f
convubw t16, s1
convuwl t32, t16
convlf f, t32
subf f, f, mean
mulf d1, f, inv_std

.function spp_orc_relu_ip_f32
.dest 4 d1 float
.const 4 zero 0x00000000
maxf d1, d1, zero

.function spp_orc_relu6_ip_f32
.dest 4 d1 float
.const 4 zero 0x00000000
.const 4 six 0x40c00000
.temp 4 t
maxf t, d1, zero
minf d1, t, six

# max (x, slope * x): LeakyReLU for 0 <= slope <= 1.
.function spp_orc_leaky_ip_f32
.dest 4 d1 float
.floatparam 4 slope
.temp 4 t
mulf t, d1, slope
maxf d1, d1, t

.function spp_orc_add_scalar_ip_f32
.dest 4 d1 float
.floatparam 4 bias
addf d1, d1, bias

.function spp_orc_add_scalar_relu_ip_f32
.dest 4 d1 float
.floatparam 4 bias
.const 4 zero 0x00000000
.temp 4 t
addf t, d1, bias
maxf d1, t, zero

.function spp_orc_add_ip_f32
.dest 4 d1 float
.source 4 s1 float
addf d1, d1, s1

.function spp_orc_add_f32
.dest 4 d1 float
.source 4 s1 float
.source 4 s2 float
addf d1, s1, s2

.function spp_orc_max_f32
.dest 4 d1 float
.source 4 s1 float
.source 4 s2 float
maxf d1, s1, s2
