/* Compiling for the CPU the library runs on. */
#pragma once

/* The memory-bound loops between the GEMMs, compiled for AVX-512 and
 * AVX2 as well as the baseline, picked at load time (GNU ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) \
    && !defined(__SANITIZE_ADDRESS__)
#define SPP_HOT_LOOP __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define SPP_HOT_LOOP
#endif
