// glibc's allocator controls (mallopt, malloc_trim, mallinfo2) for
// MusterService's HeapDiscipline. Elsewhere the header is empty.
#ifndef MUSTER_CMALLOC_SHIM_H
#define MUSTER_CMALLOC_SHIM_H
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
