/* Unit tests for core/instance.c: the single-instance lock on real files,
 * with real child processes holding or inheriting it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "instance/instance.h"
#include "base/lifecycle.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
    char directory[256];
    char lock_path[512];
    char state_dir[512];
    char log_path[512];
    struct config config;
};

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis-instance-XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->lock_path, sizeof fixture->lock_path, "%s/jarvis.lock", fixture->directory);
    snprintf(fixture->state_dir, sizeof fixture->state_dir, "%s/state", fixture->directory);
    snprintf(fixture->log_path, sizeof fixture->log_path, "%s/log.txt", fixture->directory);
    fixture->config.lock_path = fixture->lock_path;
    fixture->config.state_dir = fixture->state_dir;
    fixture->config.lock_max_wait = 1;
    assert_int_equal(log_open(fixture->log_path, LOG_INFO), 0);
    unsetenv("XDG_RUNTIME_DIR");
    unsetenv("NOTIFY_SOCKET");
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    log_close();
    char command[600];
    snprintf(command, sizeof command, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'",
             fixture->directory, fixture->directory);
    assert_int_equal(system(command), 0);
    free(fixture);
    return 0;
}

static char *read_text(const char *path)
{
    static char text[8192];
    text[0] = '\0';
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return text;
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static int count_occurrences(const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

static void test_acquire_writes_pid_and_mode_0600(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    assert_true(lock.fd >= 0);
    assert_string_equal(lock.path, fixture->lock_path);
    long pid = 0;
    long long since = 0;
    assert_int_equal(sscanf(read_text(fixture->lock_path), "%ld %lld", &pid, &since), 2);
    assert_int_equal(pid, (long)getpid());
    assert_true(since > 1700000000LL);
    struct stat info;
    assert_int_equal(stat(fixture->lock_path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    assert_true(fcntl(lock.fd, F_GETFD) & FD_CLOEXEC);
    assert_non_null(strstr(read_text(fixture->log_path), "lock acquired"));
    instance_release(&lock);
    assert_int_equal(lock.fd, -1);
    assert_int_equal(stat(fixture->lock_path, &info), 0); /* never unlinked */
}

static void test_query_sees_holder_then_nobody(void **state)
{
    struct fixture *fixture = *state;
    struct instance_holder holder;
    assert_int_equal(instance_query(&fixture->config, &holder), 0); /* no file yet */
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    /* flock conflicts between open file descriptions, even in one process. */
    assert_int_equal(instance_query(&fixture->config, &holder), 1);
    assert_int_equal(holder.pid, getpid());
    assert_true(holder.since_s > 1700000000LL);
    instance_release(&lock);
    assert_int_equal(instance_query(&fixture->config, &holder), 0);
}

static void test_query_does_not_create_state_dir(void **state)
{
    struct fixture *fixture = *state;
    fixture->config.lock_path = "";
    struct instance_holder holder;
    assert_int_equal(instance_query(&fixture->config, &holder), 0);
    struct stat info;
    assert_int_equal(stat(fixture->state_dir, &info), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_second_acquire_waits_then_times_out_75(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock first;
    struct instance_lock second;
    assert_int_equal(instance_acquire(&fixture->config, &first), 0);
    struct sigaction before;
    sigaction(SIGALRM, NULL, &before);
    sigset_t mask_before;
    pthread_sigmask(SIG_SETMASK, NULL, &mask_before);

    assert_int_equal(instance_acquire(&fixture->config, &second), 75);
    assert_int_equal(second.fd, -1);

    const char *log_text = read_text(fixture->log_path);
    assert_int_equal(count_occurrences(log_text, "waiting as a standby"), 1);
    char expected[64];
    snprintf(expected, sizeof expected, "another jarvis (pid %ld, since ", (long)getpid());
    assert_non_null(strstr(log_text, expected));
    assert_non_null(strstr(log_text, "max_wait 1 s"));
    assert_int_equal(count_occurrences(log_text, "exiting 75"), 1);
    /* the deadline timer left the signal state as it found it */
    struct sigaction after;
    sigaction(SIGALRM, NULL, &after);
    assert_ptr_equal(after.sa_handler, before.sa_handler);
    sigset_t mask_after;
    pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
    assert_int_equal(sigismember(&mask_after, SIGALRM), sigismember(&mask_before, SIGALRM));
    instance_release(&first);
}

/* A child holds the lock and exits on its own; the parent, blocked as a
 * standby with no deadline, must get the lock once the child is gone. */
static void test_standby_takes_over_when_holder_dies(void **state)
{
    struct fixture *fixture = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct instance_lock lock;
        if (instance_acquire(&fixture->config, &lock) != 0)
            _exit(2);
        char byte = 1;
        if (write(ready[1], &byte, 1) != 1)
            _exit(3);
        usleep(300000);
        _exit(0); /* no release: the kernel frees the lock */
    }
    close(ready[1]);
    char byte;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    fixture->config.lock_max_wait = 0;
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char expected[64];
    snprintf(expected, sizeof expected, "another jarvis (pid %ld", (long)child);
    assert_non_null(strstr(read_text(fixture->log_path), expected));
    long pid = 0;
    assert_int_equal(sscanf(read_text(fixture->lock_path), "%ld", &pid), 1);
    assert_int_equal(pid, (long)getpid());
    instance_release(&lock);
}

/* A forked child must not inherit a live copy of the lock fd. */
static void test_forked_child_does_not_keep_the_lock(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    int release_child[2];
    int child_report[2];
    assert_int_equal(pipe(release_child), 0);
    assert_int_equal(pipe(child_report), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(release_child[1]);
        close(child_report[0]);
        char closed = fcntl(lock.fd, F_GETFD) == -1 && errno == EBADF ? 'c' : 'o';
        char held_struct = lock.fd == -1 ? 'c' : 'o';
        char report[2] = {closed, held_struct};
        if (write(child_report[1], report, 2) != 2)
            _exit(3);
        char byte;
        if (read(release_child[0], &byte, 1) < 0) /* stay alive until told */
            _exit(4);
        _exit(0);
    }
    close(child_report[1]);
    close(release_child[0]);
    char report[2] = {0, 0};
    assert_int_equal(read(child_report[0], report, 2), 2);
    assert_int_equal(report[0], 'c');
    assert_int_equal(report[1], 'c');
    instance_release(&lock);
    /* The child is still alive; with max_wait 1 an inherited lock would give 75. */
    struct instance_lock again;
    assert_int_equal(instance_acquire(&fixture->config, &again), 0);
    assert_int_equal(count_occurrences(read_text(fixture->log_path), "waiting as a standby"), 0);
    instance_release(&again);
    close(release_child[1]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(child_report[0]);
}

static void expect_refused(struct fixture *fixture, const char *reason)
{
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 78);
    assert_int_equal(lock.fd, -1);
    const char *log_text = read_text(fixture->log_path);
    assert_non_null(strstr(log_text, reason));
    assert_non_null(strstr(log_text, fixture->config.lock_path));
    assert_int_equal(count_occurrences(log_text, "refusing"), 1);
}

static void test_symlink_refused_and_target_untouched(void **state)
{
    struct fixture *fixture = *state;
    char target[600];
    snprintf(target, sizeof target, "%s/target", fixture->directory);
    write_text(target, "precious\n", 0600);
    assert_int_equal(symlink(target, fixture->lock_path), 0);
    expect_refused(fixture, "symbolic link");
    assert_string_equal(read_text(target), "precious\n");
}

static void test_dangling_symlink_refused_and_not_created(void **state)
{
    struct fixture *fixture = *state;
    char target[600];
    snprintf(target, sizeof target, "%s/not-there", fixture->directory);
    assert_int_equal(symlink(target, fixture->lock_path), 0);
    expect_refused(fixture, "symbolic link");
    assert_int_equal(access(target, F_OK), -1);
}

static void test_group_writable_file_refused(void **state)
{
    struct fixture *fixture = *state;
    write_text(fixture->lock_path, "untouched\n", 0660);
    expect_refused(fixture, "mode 0660");
    assert_string_equal(read_text(fixture->lock_path), "untouched\n");
}

static void test_hard_linked_file_refused(void **state)
{
    struct fixture *fixture = *state;
    char other[600];
    snprintf(other, sizeof other, "%s/other", fixture->directory);
    write_text(other, "untouched\n", 0600);
    assert_int_equal(link(other, fixture->lock_path), 0);
    expect_refused(fixture, "hard links");
    assert_string_equal(read_text(other), "untouched\n");
}

static void test_directory_at_lock_path_refused(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(mkdir(fixture->lock_path, 0700), 0);
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 78);
    assert_non_null(strstr(read_text(fixture->log_path), fixture->lock_path));
}

static void test_foreign_owned_file_refused(void **state)
{
    struct fixture *fixture = *state;
    if (geteuid() != 0)
        skip(); /* chown to another user needs root */
    write_text(fixture->lock_path, "theirs\n", 0600);
    assert_int_equal(chown(fixture->lock_path, 65534, 65534), 0);
    expect_refused(fixture, "owned by uid 65534");
    assert_string_equal(read_text(fixture->lock_path), "theirs\n");
}

static void refuse_in_directory_with_mode(struct fixture *fixture, mode_t mode)
{
    char shared[600];
    char path[700];
    snprintf(shared, sizeof shared, "%s/shared-%o", fixture->directory, (unsigned)mode);
    assert_int_equal(mkdir(shared, 0700), 0);
    assert_int_equal(chmod(shared, mode), 0);
    snprintf(path, sizeof path, "%s/jarvis.lock", shared);
    fixture->config.lock_path = path;
    expect_refused(fixture, "writable by group or others");
    assert_int_equal(access(path, F_OK), -1); /* nothing created there */
    fixture->config.lock_path = fixture->lock_path;
}

static void test_world_writable_directory_refused(void **state)
{
    refuse_in_directory_with_mode(*state, 0777);
}

static void test_sticky_world_writable_directory_refused(void **state)
{
    refuse_in_directory_with_mode(*state, 01777);
}

static void test_group_writable_directory_refused(void **state)
{
    refuse_in_directory_with_mode(*state, 0770);
}

static void test_default_uses_safe_xdg_runtime_dir(void **state)
{
    struct fixture *fixture = *state;
    char runtime[600];
    snprintf(runtime, sizeof runtime, "%s/runtime", fixture->directory);
    assert_int_equal(mkdir(runtime, 0700), 0);
    setenv("XDG_RUNTIME_DIR", runtime, 1);
    fixture->config.lock_path = "";
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    char expected[700];
    snprintf(expected, sizeof expected, "%s/jarvis.lock", runtime);
    assert_string_equal(lock.path, expected);
    struct instance_holder holder;
    assert_int_equal(instance_query(&fixture->config, &holder), 1);
    instance_release(&lock);
    unsetenv("XDG_RUNTIME_DIR");
}

static void test_unsafe_xdg_runtime_dir_ignored_for_state_dir(void **state)
{
    struct fixture *fixture = *state;
    char runtime[600];
    snprintf(runtime, sizeof runtime, "%s/runtime", fixture->directory);
    assert_int_equal(mkdir(runtime, 0700), 0);
    assert_int_equal(chmod(runtime, 0755), 0);
    setenv("XDG_RUNTIME_DIR", runtime, 1);
    fixture->config.lock_path = "";
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    char expected[700];
    snprintf(expected, sizeof expected, "%s/jarvis.lock", fixture->state_dir);
    assert_string_equal(lock.path, expected);
    struct stat info;
    assert_int_equal(stat(fixture->state_dir, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0700);
    assert_non_null(strstr(read_text(fixture->log_path), "XDG_RUNTIME_DIR"));
    instance_release(&lock);
    unsetenv("XDG_RUNTIME_DIR");
}

/* In a child, so the stop flag does not leak into the other tests. */
static void test_stop_signal_ends_the_wait(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock holder;
    assert_int_equal(instance_acquire(&fixture->config, &holder), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (lifecycle_install_signals() != 0)
            _exit(2);
        fixture->config.lock_max_wait = 0;
        struct instance_lock lock;
        _exit(instance_acquire(&fixture->config, &lock));
    }
    /* Signal only once the child is blocked in flock: that is the path
     * under test (an earlier SIGTERM would just set the flag). */
    for (int tries = 0; tries < 500; tries++) {
        if (strstr(read_text(fixture->log_path), "waiting as a standby") != NULL)
            break;
        usleep(10000);
    }
    assert_non_null(strstr(read_text(fixture->log_path), "waiting as a standby"));
    usleep(50000);
    assert_int_equal(kill(child, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 75);
    assert_non_null(strstr(read_text(fixture->log_path), "stop requested"));
    instance_release(&holder);
}

/* A SIGTERM that arrives before the standby blocks (here: before it even
 * starts) must still end the wait; with max_wait 0 nothing else would. The
 * alarm is only a guard that turns a hang into a failure. */
static void test_stop_requested_before_waiting_ends_it(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock holder;
    assert_int_equal(instance_acquire(&fixture->config, &holder), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (lifecycle_install_signals() != 0)
            _exit(2);
        raise(SIGTERM);
        if (!lifecycle_stop_requested())
            _exit(3);
        fixture->config.lock_max_wait = 0;
        alarm(10);
        struct instance_lock lock;
        _exit(instance_acquire(&fixture->config, &lock));
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 75);
    assert_non_null(strstr(read_text(fixture->log_path), "stop requested"));
    instance_release(&holder);
}

/* The holder notices a lock file that no longer names its inode, and a
 * second acquire in the same process (its own open file description) waits
 * on the guard instead of taking the fresh file at once. */
static void test_still_held_notices_a_deleted_or_replaced_file(void **state)
{
    struct fixture *fixture = *state;
    struct instance_lock lock;
    assert_int_equal(instance_acquire(&fixture->config, &lock), 0);
    assert_true(lock.guard_fd >= 0);
    assert_int_equal(instance_still_held(&lock), 1);
    assert_int_equal(unlink(fixture->lock_path), 0);
    assert_int_equal(instance_still_held(&lock), 0);
    assert_non_null(strstr(read_text(fixture->log_path), "deleted or replaced while we held it"));

    /* a newcomer locks the fresh file but waits for our guard: max_wait 1 s */
    struct instance_lock newcomer;
    assert_int_equal(instance_acquire(&fixture->config, &newcomer), 75);
    assert_non_null(strstr(read_text(fixture->log_path), "waiting for it to stand down"));
    instance_release(&lock);
    assert_int_equal(instance_acquire(&fixture->config, &newcomer), 0);
    assert_int_equal(instance_still_held(&newcomer), 1);

    /* replaced by rename: same path, another inode */
    char other[600];
    snprintf(other, sizeof other, "%s/other", fixture->directory);
    int fd = open(other, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rename(other, fixture->lock_path), 0);
    assert_int_equal(instance_still_held(&newcomer), 0);
    instance_release(&newcomer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acquire_writes_pid_and_mode_0600, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_still_held_notices_a_deleted_or_replaced_file, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_query_sees_holder_then_nobody, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_query_does_not_create_state_dir, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_second_acquire_waits_then_times_out_75, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_standby_takes_over_when_holder_dies, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_forked_child_does_not_keep_the_lock, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_symlink_refused_and_target_untouched, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_dangling_symlink_refused_and_not_created, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_group_writable_file_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_hard_linked_file_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_directory_at_lock_path_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_foreign_owned_file_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_world_writable_directory_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_sticky_world_writable_directory_refused, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_group_writable_directory_refused, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_default_uses_safe_xdg_runtime_dir, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_unsafe_xdg_runtime_dir_ignored_for_state_dir, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_stop_signal_ends_the_wait, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_stop_requested_before_waiting_ends_it, set_up,
                                        tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
