/* sppdetect: the export macro of libspp's public API. */
#pragma once

/* The library is built with hidden visibility (docs/design.md, parts), so
 * only what a public header marks with SPP_API is in its dynamic symbol
 * table. */
#if defined(__GNUC__) || defined(__clang__)
#define SPP_API __attribute__ ((visibility ("default")))
#else
#define SPP_API
#endif
