// The Linux system headers the HTTP server's event loop needs and Swift's Glibc module does not
// export: epoll, eventfd, and naming a thread (prctl).
#ifndef KREA_GATEWAY_CEPOLL_H
#define KREA_GATEWAY_CEPOLL_H

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/// Names the calling thread (at most 15 bytes show), as `top -H` and `perf` print it.
static inline void cepoll_name_current_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
#endif

#endif
