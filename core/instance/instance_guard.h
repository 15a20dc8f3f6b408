/* A second line behind the single-instance lock: an abstract unix socket
 * named after the lock path, which no file operation can remove. If the
 * lock file is deleted while held, a newcomer locks a fresh inode at the
 * same path; the guard makes it wait until the old holder stands down. */
#ifndef JARVIS_INSTANCE_GUARD_H
#define JARVIS_INSTANCE_GUARD_H

/* The guard's socket, still unbound. instance_acquire moves it to a high
 * fd and the lock to the lowest: a dying process's files are released
 * highest fd first, so a standby woken by the freed flock finds the guard
 * already gone (see instance.c). -1 when no socket can be had (the guard
 * is a second line only). */
int instance_guard_create(void);
/* Binds guard_fd to the name for lock_path (held until it is closed). When
 * another process of our uid holds the name, logs one line and waits
 * (max_wait seconds, 0 = forever) for it to go. 0 when bound, or when no
 * guard can be had here (another uid squats the name, guard_fd is -1);
 * 75 on time-out or a stop. */
int instance_guard_acquire(int guard_fd, const char *lock_path, int max_wait);

#endif
