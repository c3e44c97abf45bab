// Thin shim over libpq-fe.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros, C callbacks). Nothing here holds logic.
#ifndef CLibPQ_SHIM_H
#define CLibPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>

/// Notice processor that drops notices: libpq's default prints them to stderr
/// ("NOTICE: schema already exists, skipping", a terminated backend's FATAL).
static void CLibPQ_drop_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/// Installs `CLibPQ_drop_notice` on `conn`.
static inline void CLibPQ_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, CLibPQ_drop_notice, NULL);
}

/// 1 when the connection's socket has something to read (data, EOF or error)
/// right now, 0 when not, -1 when it cannot be polled. Never blocks.
static inline int CLibPQ_socket_readable(PGconn *conn) {
    int fd = PQsocket(conn);
    if (fd < 0) return -1;
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&pfd, 1, 0);
    if (n < 0) return -1;
    return n > 0 && pfd.revents != 0 ? 1 : 0;
}
#endif
