/* The guard socket: "\0jarvis-lock-<uid>-<hash of the lock path>" in the
 * abstract namespace (Linux), bound while the lock is held and released by
 * the kernel however the holder ends. Its listener's credentials say who
 * holds it (SO_PEERCRED on a connect), so a squatter of another uid is
 * ignored rather than obeyed. Per network namespace, like all abstract
 * names: a holder in another container is not seen (the lock still is). */
#include "instance/instance_guard.h"

#include "base/clock.h"
#include "base/lifecycle.h"
#include "base/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#define RETRY_MS 50

/* FNV-1a: the path may be longer than an abstract name can be. */
static uint64_t path_hash(const char *path)
{
    uint64_t hash = 1469598103934665603ULL;
    for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++) {
        hash ^= *c;
        hash *= 1099511628211ULL;
    }
    return hash;
}

static socklen_t guard_address(const char *lock_path, struct sockaddr_un *address)
{
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    int length = snprintf(address->sun_path + 1, sizeof address->sun_path - 1,
                          "jarvis-lock-%u-%016" PRIx64, (unsigned)geteuid(), path_hash(lock_path));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)length);
}

int instance_guard_create(void)
{
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* 0 bound, 1 taken by someone, -1 no guard possible. A failed bind leaves
 * the socket unbound, so the same one is tried again. */
static int try_bind(int socket_fd, const struct sockaddr_un *address, socklen_t length)
{
    if (bind(socket_fd, (const struct sockaddr *)address, length) == 0)
        return listen(socket_fd, SOMAXCONN) == 0 ? 0 : -1;
    return errno == EADDRINUSE ? 1 : -1;
}

/* The guard's holder: 0 and its pid when it is of our uid, -1 otherwise or
 * when it cannot be asked (it may be gone already: then retry). */
static int holder_of(const struct sockaddr_un *address, socklen_t length, pid_t *pid)
{
    int socket_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (socket_fd < 0)
        return -1;
    int result = -1;
    struct ucred credentials;
    socklen_t size = sizeof credentials;
    if (connect(socket_fd, (const struct sockaddr *)address, length) == 0 &&
        getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 &&
        credentials.uid == geteuid()) {
        *pid = credentials.pid;
        result = 0;
    }
    close(socket_fd);
    return result;
}

int instance_guard_acquire(int guard_fd, const char *lock_path, int max_wait)
{
    if (guard_fd < 0)
        return 0;
    struct sockaddr_un address;
    socklen_t length = guard_address(lock_path, &address);
    int64_t deadline_ms = monotonic_ms() + (int64_t)max_wait * 1000;
    int announced = 0;
    pid_t pid = 0;
    for (;;) {
        int bound = try_bind(guard_fd, &address, length);
        if (bound <= 0)
            return 0; /* held now, or no guard possible: the flock still stands */
        if (!announced) {
            if (holder_of(&address, length, &pid) != 0) {
                /* another uid's squatter, or a holder gone in between:
                 * retry once, then go on: a squatter must not keep the
                 * bot down, and the flock is still the real lock */
                usleep(RETRY_MS * 1000);
                if (try_bind(guard_fd, &address, length) != 0)
                    log_warn("lock %s: its guard name is held by another user; going on "
                             "without it",
                             lock_path);
                return 0;
            }
            log_warn("lock %s: pid %ld still runs with an earlier lock file at this path "
                     "(deleted or replaced under it); waiting for it to stand down before "
                     "polling",
                     lock_path, (long)pid);
            announced = 1;
        }
        if (lifecycle_stop_requested())
            return EX_TEMPFAIL;
        if (max_wait > 0 && monotonic_ms() >= deadline_ms) {
            log_info("lock %s: pid %ld still runs after max_wait %d s; exiting 75", lock_path,
                     (long)pid, max_wait);
            return EX_TEMPFAIL;
        }
        usleep(RETRY_MS * 1000);
    }
}
