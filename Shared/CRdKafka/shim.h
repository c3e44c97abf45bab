// Thin shim over librdkafka/rdkafka.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros). Nothing here holds logic.
#ifndef CRdKafka_SHIM_H
#define CRdKafka_SHIM_H
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/// RD_KAFKA_PARTITION_UA is a cast macro, which Swift does not import.
static inline int32_t CRdKafka_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }

/// RD_KAFKA_OFFSET_INVALID is a cast macro, which Swift does not import.
static inline int64_t CRdKafka_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

/// A valid pointer to zero bytes: an empty key or header value must be non-NULL (NULL means "null").
static inline const void *CRdKafka_empty_bytes(void) {
    static const char empty = 0;
    return &empty;
}

/// Produces one message through rd_kafka_produceva (Swift cannot call the variadic
/// rd_kafka_producev, nor comfortably fill rd_kafka_vu_t's anonymous unions).
/// Key and value are copied (RD_KAFKA_MSG_F_COPY); a NULL key means "no key".
/// `headers` may be NULL; on success the message owns it, on failure the caller still does.
/// Returns NULL on success, else an error the caller must rd_kafka_error_destroy().
static inline rd_kafka_error_t *CRdKafka_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                             const void *key, size_t key_size,
                                             const void *value, size_t value_size,
                                             rd_kafka_headers_t *headers, void *opaque) {
    rd_kafka_vu_t vus[7];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = topic;
    vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vus[n++].u.i32 = partition;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = (void *)value;
    vus[n++].u.mem.size = value_size;
    if (key != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = (void *)key;
        vus[n++].u.mem.size = key_size;
    }
    if (headers != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = headers;
    }
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n++].u.ptr = opaque;
    return rd_kafka_produceva(rk, vus, n);
}

#endif
