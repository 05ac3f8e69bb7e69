#ifndef SYNDICAST_CZLIB_SHIM_H
#define SYNDICAST_CZLIB_SHIM_H
#include <zlib.h>

/// Swift cannot import the deflateInit2/inflateInit2 macros; these wrap them.
static inline int czlib_deflate_init2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int czlib_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
