/* The single-instance lock: flock on a 0600 lock file outside shared
 * world-writable directories. A second instance blocks as a hot standby;
 * the kernel frees the lock however the holder dies. */
#ifndef JARVIS_INSTANCE_H
#define JARVIS_INSTANCE_H

#include <stdint.h>
#include <sys/types.h>

struct config;

struct instance_lock {
    int fd;
    char path[4096];
};

/* Resolves [lock] path (default $XDG_RUNTIME_DIR/jarvis.lock, else
 * state_dir/jarvis.lock). Returns 0 holding the lock, 75 on time-out
 * ([lock] max_wait), 78 for an unsafe path (logged, one line). */
int instance_acquire(const struct config *config, struct instance_lock *lock);
/* Closes the fd; the file stays (never unlink a lock file). */
void instance_release(struct instance_lock *lock);

struct instance_holder {
    pid_t pid;
    int64_t since_s; /* unix time the holder took the lock */
};
/* For `jarvis status`: 1 and *holder when a live process holds the lock,
 * 0 when nobody does, -1 when the path is unusable. */
int instance_query(const struct config *config, struct instance_holder *holder);

#endif
