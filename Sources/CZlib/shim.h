// The system zlib (Debian: zlib1g-dev), for the HTTP core's gzip responses and inflated request
// bodies. Its init macros (inflateInit2, deflateInit2) are called through their functions.
#ifndef KREA_GATEWAY_CZLIB_H
#define KREA_GATEWAY_CZLIB_H
#include <zlib.h>
#endif
