/* The single-instance lock: flock on a 0600 lock file outside shared
 * world-writable directories. A second instance blocks as a hot standby;
 * the kernel frees the lock however the holder dies. */
#ifndef JARVIS_INSTANCE_H
#define JARVIS_INSTANCE_H

#include <stdint.h>
#include <sys/types.h>

struct config;
struct host_lease;

struct instance_lock {
    int fd;
    int guard_fd;             /* instance_guard.h: held with the lock */
    struct host_lease *lease; /* host_lease.h: backend = postgres only, else NULL */
    char path[4096];
};

/* The exit code of a holder whose lock file was deleted or replaced under
 * it: EX_UNAVAILABLE, distinct from 75 and 78. A supervisor restarts it,
 * and it then waits as a standby behind whoever holds the path now. */
#define INSTANCE_EXIT_LOCK_LOST 69

/* Resolves [lock] path (default $XDG_RUNTIME_DIR/jarvis.lock, else
 * state_dir/jarvis.lock). Returns 0 holding the lock, 75 on time-out
 * ([lock] max_wait), 78 for an unsafe path (logged, one line). With
 * [state] backend = postgres the database lock across hosts is taken
 * next, behind the file lock (host_lease_acquire, same codes). */
int instance_acquire(const struct config *config, struct instance_lock *lock);
/* Closes the fd; the file stays (never unlink a lock file). */
void instance_release(struct instance_lock *lock);
/* 1 while the lock path still names the inode we hold and the database
 * lease (if any) is valid. 0 once the file was deleted or replaced, or the
 * lease lost (logged, one line): another instance can then poll, so the
 * caller must stand down (INSTANCE_EXIT_LOCK_LOST) rather than go on as if
 * alone. Cheap (two stats): called before each long poll. */
int instance_still_held(const struct instance_lock *lock);

struct instance_holder {
    pid_t pid;
    int64_t since_s; /* unix time the holder took the lock */
};
/* For `jarvis status`: 1 and *holder when a live process holds the lock,
 * 0 when nobody does, -1 when the path is unusable. */
int instance_query(const struct config *config, struct instance_holder *holder);

#endif
