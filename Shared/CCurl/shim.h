// Thin shim over curl/curl.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros). Nothing here holds logic.
#ifndef CCurl_SHIM_H
#define CCurl_SHIM_H
#include <curl/curl.h>
#endif
