// Thin shim over librdkafka/rdkafka.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros). Nothing here holds logic.
#ifndef CRdKafka_SHIM_H
#define CRdKafka_SHIM_H
#include <librdkafka/rdkafka.h>
#endif
