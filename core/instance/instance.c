/* The single-instance lock: flock on a 0600 file in a directory only we can
 * write. A second instance blocks in flock as a hot standby (no polling), so
 * it takes over as soon as the kernel frees the lock of a dead holder. */
#include "instance/instance.h"

#include "base/clock.h"
#include "config/config.h"
#include "base/directories.h"
#include "instance/host_lease.h"
#include "instance/instance_guard.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "instance/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define LOCK_FILE_NAME "jarvis.lock"
#define LOCK_PATH_CAPACITY 4096
_Static_assert(sizeof(((struct instance_lock *)0)->path) == LOCK_PATH_CAPACITY,
               "LOCK_PATH_CAPACITY must match struct instance_lock");
/* After the deadline the timer keeps firing at this period: a signal that
 * lands just before flock starts to block would otherwise be lost. */
#define DEADLINE_REPEAT_NS (10 * 1000000L)
/* systemd stops waiting for READY after TimeoutStartSec; a standby asks for
 * this much more each time it starts waiting. */
#define FOREVER_EXTEND_USEC (365ULL * 24 * 3600 * 1000000ULL)

/* The held lock, for the fork child handler: a child must not keep the lock
 * alive after the host dies, so it closes its copy of the fd. */
static struct instance_lock *held_lock;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void close_lock_in_child(void)
{
    if (held_lock == NULL)
        return;
    if (held_lock->guard_fd >= 0)
        close(held_lock->guard_fd);
    held_lock->guard_fd = -1;
    if (held_lock->fd >= 0)
        close(held_lock->fd);
    held_lock->fd = -1;
    held_lock = NULL;
}

static void register_atfork_handler(void)
{
    pthread_atfork(NULL, NULL, close_lock_in_child);
}

static void format_utc(int64_t unix_s, char *buffer, size_t size)
{
    time_t seconds = (time_t)unix_s;
    struct tm utc;
    if (gmtime_r(&seconds, &utc) == NULL || strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
        snprintf(buffer, size, "%" PRId64, unix_s);
}

/* --- where the lock lives --------------------------------------------- */

/* The XDG spec requires the runtime dir to be ours and 0700; anything else
 * is ignored (as chg does), never trusted. */
static int usable_runtime_dir(const char **directory)
{
    const char *value = getenv("XDG_RUNTIME_DIR");
    if (value == NULL || value[0] != '/')
        return 0;
    struct stat info;
    if (stat(value, &info) != 0 || !S_ISDIR(info.st_mode))
        return 0;
    if (info.st_uid != geteuid() || (info.st_mode & 07777) != 0700) {
        log_warn("XDG_RUNTIME_DIR %s ignored for the lock: not owned by uid %u with mode 0700",
                 value, (unsigned)geteuid());
        return 0;
    }
    *directory = value;
    return 1;
}

static int join_path(char *out, size_t size, const char *directory, const char *name)
{
    int written = snprintf(out, size, "%s/%s", directory, name);
    if (written < 0 || (size_t)written >= size) {
        log_error("lock path under %s is too long", directory);
        return -1;
    }
    return 0;
}

static int ensure_directory(const char *what, const char *directory)
{
    if (directories_make(directory, 0700) == 0)
        return 0;
    log_error("lock: cannot create %s %s: %s", what, directory, strerror(errno));
    return -1;
}

/* The lock's directory is created like state_dir (0700), so a fresh
 * [lock] path = /run/jarvis/jarvis.lock works without systemd. */
static int ensure_lock_directory(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return 0;
    *slash = '\0';
    int result = ensure_directory("the [lock] path directory", path);
    *slash = '/';
    return result;
}

/* [lock] path, else $XDG_RUNTIME_DIR/jarvis.lock, else state_dir/jarvis.lock.
 * create_state_dir is 0 for `jarvis status`, which must not create anything. */
static int resolve_lock_path(const struct config *config, char *out, size_t size,
                             int create_state_dir)
{
    if (config->lock_path != NULL && config->lock_path[0] != '\0') {
        if (strlen(config->lock_path) >= size) {
            log_error("[lock] path is too long");
            return -1;
        }
        strcpy(out, config->lock_path);
        return create_state_dir ? ensure_lock_directory(out) : 0;
    }
    const char *runtime_dir = NULL;
    if (usable_runtime_dir(&runtime_dir))
        return join_path(out, size, runtime_dir, LOCK_FILE_NAME);
    const char *state_dir =
        config->state_dir != NULL && config->state_dir[0] != '\0' ? config->state_dir : "state";
    if (create_state_dir && ensure_directory("state_dir", state_dir) != 0)
        return -1;
    return join_path(out, size, state_dir, LOCK_FILE_NAME);
}

/* Splits path into its directory (written to directory) and its last name. */
static const char *split_path(const char *path, char *directory, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(directory, size, ".");
        return path;
    }
    size_t length = slash == path ? 1 : (size_t)(slash - path);
    if (length >= size)
        length = size - 1;
    memcpy(directory, path, length);
    directory[length] = '\0';
    return slash + 1;
}

/* --- opening it safely ------------------------------------------------ */

enum open_purpose { OPEN_TO_LOCK, OPEN_TO_QUERY };

/* Strict on purpose: a sticky world-writable directory (/tmp) is refused
 * too, since another user can pre-create the name there and hold the lock. */
static int check_directory(int directory_fd, const char *directory, const char *path)
{
    struct stat info;
    if (fstat(directory_fd, &info) != 0) {
        log_error("lock %s: cannot stat directory %s: %s", path, directory, strerror(errno));
        return -1;
    }
    if (info.st_uid != geteuid() && info.st_uid != 0) {
        log_error("lock %s: directory %s is owned by uid %u, not by us or root; refusing", path,
                  directory, (unsigned)info.st_uid);
        return -1;
    }
    if (info.st_mode & (S_IWGRP | S_IWOTH)) {
        log_error("lock %s: directory %s is writable by group or others (mode %04o); refusing",
                  path, directory, (unsigned)(info.st_mode & 07777));
        return -1;
    }
    return 0;
}

static int check_lock_file(int fd, const char *path, enum open_purpose purpose)
{
    struct stat info;
    if (fstat(fd, &info) != 0) {
        log_error("lock %s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(info.st_mode)) {
        log_error("lock %s: not a regular file; refusing", path);
        return -1;
    }
    if (purpose == OPEN_TO_QUERY)
        return 0;
    if (info.st_uid != geteuid()) {
        log_error("lock %s: owned by uid %u, not by us (uid %u); refusing", path,
                  (unsigned)info.st_uid, (unsigned)geteuid());
        return -1;
    }
    if (info.st_nlink != 1) {
        log_error("lock %s: has %lu hard links, expected 1; refusing", path,
                  (unsigned long)info.st_nlink);
        return -1;
    }
    if (info.st_mode & (S_IRWXG | S_IRWXO)) {
        log_error("lock %s: mode %04o gives group or others access, expected 0600; refusing", path,
                  (unsigned)(info.st_mode & 07777));
        return -1;
    }
    return 0;
}

static void log_open_failure(const char *path, int error)
{
    if (error == ELOOP)
        log_error("lock %s: is a symbolic link; refusing", path);
    else
        log_error("lock %s: cannot open: %s", path, strerror(error));
}

/* The directory is opened first and the file relative to it, so the
 * directory that was checked is the one the file is created in. Returns the
 * fd, or -1 (errno set) after one log line. OPEN_TO_QUERY (jarvis status:
 * read-only, perhaps run by root) skips the ownership checks and is quiet
 * when the file does not exist. */
static int open_lock_file(const char *path, enum open_purpose purpose)
{
    char directory[LOCK_PATH_CAPACITY];
    const char *name = split_path(path, directory, sizeof directory);
    if (name[0] == '\0') {
        log_error("lock %s: names a directory, not a file", path);
        return -1;
    }
    int quiet_if_missing = purpose == OPEN_TO_QUERY;
    int directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) {
        int saved_errno = errno;
        if (!(quiet_if_missing && saved_errno == ENOENT))
            log_error("lock %s: cannot open directory %s: %s", path, directory,
                      strerror(saved_errno));
        errno = saved_errno;
        return -1;
    }
    if (purpose == OPEN_TO_LOCK && check_directory(directory_fd, directory, path) != 0) {
        close(directory_fd);
        errno = EPERM;
        return -1;
    }
    int flags = purpose == OPEN_TO_LOCK ? O_RDWR | O_CREAT : O_RDONLY;
    int fd =
        openat(directory_fd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
    int saved_errno = errno;
    close(directory_fd);
    if (fd < 0) {
        if (!(quiet_if_missing && saved_errno == ENOENT))
            log_open_failure(path, saved_errno);
        errno = saved_errno;
        return -1;
    }
    if (check_lock_file(fd, path, purpose) != 0) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* --- the holder's record (diagnostic only) ----------------------------- */

static int read_holder(int fd, struct instance_holder *holder)
{
    char text[64];
    ssize_t length = pread(fd, text, sizeof text - 1, 0);
    if (length <= 0)
        return -1;
    text[length] = '\0';
    long long pid = 0;
    long long since = 0;
    if (sscanf(text, "%lld %lld", &pid, &since) != 2 || pid <= 0)
        return -1;
    holder->pid = (pid_t)pid;
    holder->since_s = since;
    return 0;
}

static void write_holder(int fd, const char *path)
{
    char text[64];
    int length = snprintf(text, sizeof text, "%ld %lld\n", (long)getpid(), (long long)time(NULL));
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)length, 0) != length)
        log_warn("lock %s: held, but cannot record our pid in it: %s", path, strerror(errno));
}

/* --- waiting as a standby ---------------------------------------------- */

static void on_deadline_signal(int signal_number)
{
    (void)signal_number;
}

struct deadline_timer {
    timer_t timer;
    int armed;
    struct sigaction previous_action;
    sigset_t previous_mask;
};

static void restore_signal_state(struct deadline_timer *deadline)
{
    sigaction(SIGALRM, &deadline->previous_action, NULL);
    pthread_sigmask(SIG_SETMASK, &deadline->previous_mask, NULL);
}

/* A thread-directed SIGALRM, installed without SA_RESTART, makes the
 * blocking flock return EINTR at the deadline and every 10 ms after it. */
static int arm_deadline(struct deadline_timer *deadline, int seconds)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_deadline_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGALRM, &action, &deadline->previous_action) != 0)
        return -1;
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alarm_only, &deadline->previous_mask);

    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGALRM;
    /* glibc spells sigev_notify_thread_id only in newer headers. */
    event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &event, &deadline->timer) != 0) {
        restore_signal_state(deadline);
        return -1;
    }
    struct itimerspec period = {.it_value = {.tv_sec = seconds},
                                .it_interval = {.tv_nsec = DEADLINE_REPEAT_NS}};
    if (timer_settime(deadline->timer, 0, &period, NULL) != 0) {
        timer_delete(deadline->timer);
        restore_signal_state(deadline);
        return -1;
    }
    deadline->armed = 1;
    return 0;
}

/* A signal still pending after timer_delete is delivered to our no-op
 * handler on the way out of that call, before the old action comes back. */
static void disarm_deadline(struct deadline_timer *deadline)
{
    if (!deadline->armed)
        return;
    timer_delete(deadline->timer);
    restore_signal_state(deadline);
    deadline->armed = 0;
}

static void announce_standby(int fd, const char *path, int max_wait)
{
    struct instance_holder holder = {0};
    /* The holder writes its record right after flock; give it that moment. */
    if (read_holder(fd, &holder) != 0) {
        usleep(10000);
        read_holder(fd, &holder);
    }
    char limit[32];
    if (max_wait > 0)
        snprintf(limit, sizeof limit, "max_wait %d s", max_wait);
    else
        snprintf(limit, sizeof limit, "max_wait 0 = forever");
    char status[96];
    if (holder.pid > 0) {
        char since[32];
        format_utc(holder.since_s, since, sizeof since);
        log_info("another jarvis (pid %ld, since %s) holds %s; waiting as a standby (%s)",
                 (long)holder.pid, since, path, limit);
        snprintf(status, sizeof status, "waiting for lock held by pid %ld", (long)holder.pid);
    } else {
        log_info("another jarvis (pid unknown) holds %s; waiting as a standby (%s)", path, limit);
        snprintf(status, sizeof status, "waiting for lock held by another jarvis");
    }
    notify_status(status);
    uint64_t extend =
        max_wait > 0 ? (uint64_t)max_wait * 1000000ULL + 5000000ULL : FOREVER_EXTEND_USEC;
    notify_extend_timeout(extend);
}

/* Blocks in flock until the lock is ours (0), the deadline passes (75) or a
 * stop is requested (75: the standby never ran, nothing to shut down). The
 * stop flag is checked before every flock, not only after EINTR: a SIGTERM
 * that landed earlier (during announce_standby's pause, say) has already
 * interrupted whatever it hit, and with max_wait 0 no timer would ever wake
 * the flock again. */
static int wait_for_lock(int fd, const char *path, int max_wait)
{
    struct deadline_timer deadline = {0};
    if (max_wait > 0 && arm_deadline(&deadline, max_wait) != 0) {
        log_error("lock %s: cannot arm the max_wait timer: %s", path, strerror(errno));
        return EX_TEMPFAIL;
    }
    int64_t deadline_ms = monotonic_ms() + (int64_t)max_wait * 1000;
    int result = 0;
    for (;;) {
        if (lifecycle_stop_requested()) {
            log_info("stop requested while waiting for the lock %s; exiting", path);
            result = EX_TEMPFAIL;
            break;
        }
        if (flock(fd, LOCK_EX) == 0)
            break;
        if (errno != EINTR) {
            log_error("lock %s: flock failed: %s", path, strerror(errno));
            result = errno == ENOLCK || errno == EINVAL ? EX_CONFIG : EX_TEMPFAIL;
            break;
        }
        if (max_wait > 0 && monotonic_ms() >= deadline_ms) {
            log_info("lock %s still held after max_wait %d s; exiting 75", path, max_wait);
            result = EX_TEMPFAIL;
            break;
        }
    }
    disarm_deadline(&deadline);
    return result;
}

/* When a process dies the kernel closes its fds in ascending order, but the
 * files themselves (where a flock is dropped and a socket sends its FIN) are
 * released afterwards in the reverse order, the highest fd first (the
 * deferred fput is a LIFO task_work list). A lock on a high fd would be
 * dropped before the holder's sockets close, and a standby could poll while
 * Telegram (or a fake) still sees the dead holder's long poll open: 63 of
 * 200 kills on Linux 6.18 with the lock on fd 900, none with it on fd 3.
 * So the lock goes to the lowest fd it can have (3 and up: 0-2 are stdio
 * even when closed) and is released last; every socket opened later gets
 * a higher number. The guard goes high, released first: a standby woken by
 * the freed flock finds it gone. The flock belongs to the open file, so a
 * duplicate holds it; a failed dup keeps the original. */
#define LOWEST_LOCK_FD 3
#define GUARD_FD_FLOOR 900

static int move_fd(int fd, int floor)
{
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    if (moved < 0)
        return fd;
    if (floor < fd && moved > fd) { /* no lower fd free: keep the original */
        close(moved);
        return fd;
    }
    close(fd);
    return moved;
}

static int take_lock(int fd, const char *path, int max_wait)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK) {
        log_error("lock %s: flock failed: %s", path, strerror(errno));
        return errno == ENOLCK || errno == EINVAL ? EX_CONFIG : EX_TEMPFAIL;
    }
    announce_standby(fd, path, max_wait);
    return wait_for_lock(fd, path, max_wait);
}

/* 1 when fd's inode is the one path names now. */
static int names_same_file(int fd, const char *path)
{
    struct stat held;
    struct stat named;
    if (fstat(fd, &held) != 0 || lstat(path, &named) != 0)
        return 0;
    return held.st_dev == named.st_dev && held.st_ino == named.st_ino && held.st_nlink > 0;
}

/* Opens and locks the path until the locked inode is the one the path
 * names: a standby woken because a holder of a deleted file died would
 * otherwise hold a lock nobody else can see. Returns 0 (*locked_fd) or an
 * exit code. */
static int lock_current_file(const struct config *config, const char *path, int *locked_fd)
{
    for (int attempt = 0;; attempt++) {
        int fd = open_lock_file(path, OPEN_TO_LOCK);
        if (fd < 0)
            return EX_CONFIG;
        int result = take_lock(fd, path, config->lock_max_wait);
        if (result != 0) {
            close(fd);
            return result;
        }
        if (names_same_file(fd, path)) {
            *locked_fd = fd;
            return 0;
        }
        close(fd);
        if (attempt >= 10) {
            log_error("lock %s: the file keeps being replaced while we lock it; refusing", path);
            return EX_TEMPFAIL;
        }
        log_info("lock %s: the file we locked was deleted or replaced; locking the new one", path);
    }
}

int instance_acquire(const struct config *config, struct instance_lock *lock)
{
    lock->fd = -1;
    lock->guard_fd = -1;
    lock->lease = NULL;
    lock->path[0] = '\0';
    if (resolve_lock_path(config, lock->path, sizeof lock->path, 1) != 0)
        return EX_CONFIG;
    pthread_once(&atfork_once, register_atfork_handler);
    int guard_fd = instance_guard_create(); /* moved high below: see its header */
    int fd = -1;
    int result = lock_current_file(config, lock->path, &fd);
    if (result == 0)
        result = instance_guard_acquire(guard_fd, lock->path, config->lock_max_wait);
    if (result != 0) {
        if (fd >= 0)
            close(fd);
        if (guard_fd >= 0)
            close(guard_fd);
        return result;
    }
    /* the guard first: its low fd (it was opened before the lock file) is
     * then free for the lock */
    lock->guard_fd = guard_fd >= 0 ? move_fd(guard_fd, GUARD_FD_FLOOR) : -1;
    lock->fd = move_fd(fd, LOWEST_LOCK_FD);
    held_lock = lock;
    write_holder(lock->fd, lock->path);
    log_info("lock acquired: %s (pid %ld)", lock->path, (long)getpid());
    result = host_lease_acquire(config, &lock->lease);
    if (result != 0)
        instance_release(lock);
    return result;
}

void instance_release(struct instance_lock *lock)
{
    host_lease_release(lock->lease);
    lock->lease = NULL;
    if (held_lock == lock)
        held_lock = NULL;
    if (lock->guard_fd >= 0)
        close(lock->guard_fd);
    lock->guard_fd = -1;
    if (lock->fd >= 0)
        close(lock->fd);
    lock->fd = -1;
}

int instance_still_held(const struct instance_lock *lock)
{
    if (!host_lease_still_held(lock->lease))
        return 0;
    if (lock->fd < 0 || names_same_file(lock->fd, lock->path))
        return 1;
    log_error("lock %s: the lock file was deleted or replaced while we held it, so another "
              "instance may lock the path; standing down (exit %d) rather than polling beside "
              "it. Nothing may remove the lock file while jarvis runs",
              lock->path, INSTANCE_EXIT_LOCK_LOST);
    return 0;
}

int instance_query(const struct config *config, struct instance_holder *holder)
{
    memset(holder, 0, sizeof *holder);
    char path[LOCK_PATH_CAPACITY];
    if (resolve_lock_path(config, path, sizeof path, 0) != 0)
        return -1;
    int fd = open_lock_file(path, OPEN_TO_QUERY);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    /* A shared probe: it succeeds only when no one holds the exclusive lock,
     * and is dropped at once, so it never delays the holder. */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return 0;
    }
    int result = errno == EWOULDBLOCK ? 1 : -1;
    if (result == 1 && read_holder(fd, holder) != 0)
        holder->pid = 0;
    close(fd);
    return result;
}
