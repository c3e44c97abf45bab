// Thin shim over libpq-fe.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros). Nothing here holds logic.
#ifndef CLibPQ_SHIM_H
#define CLibPQ_SHIM_H
#include <libpq-fe.h>
#endif
