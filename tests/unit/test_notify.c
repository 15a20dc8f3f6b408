/* Unit tests for core/notify.c: a real AF_UNIX datagram socket plays the
 * supervisor and checks every message the notify functions send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "instance/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct receiver {
    int fd;
    char path[108];
};

static void bind_receiver(struct receiver *receiver, const char *name, socklen_t length,
                          struct sockaddr_un *address)
{
    receiver->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(receiver->fd >= 0);
    assert_int_equal(bind(receiver->fd, (struct sockaddr *)address, length), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
}

static int set_up_path_socket(void **state)
{
    struct receiver *receiver = calloc(1, sizeof *receiver);
    snprintf(receiver->path, sizeof receiver->path, "/tmp/jarvis-notify-%ld.sock", (long)getpid());
    unlink(receiver->path);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, receiver->path);
    bind_receiver(receiver, receiver->path, sizeof address, &address);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    *state = receiver;
    return 0;
}

static int set_up_abstract_socket(void **state)
{
    struct receiver *receiver = calloc(1, sizeof *receiver);
    char name[64];
    snprintf(name, sizeof name, "@jarvis-notify-test-%ld", (long)getpid());
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    size_t length = strlen(name);
    memcpy(address.sun_path, name, length);
    address.sun_path[0] = '\0';
    bind_receiver(receiver, name, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length),
                  &address);
    *state = receiver;
    return 0;
}

static int tear_down(void **state)
{
    struct receiver *receiver = *state;
    close(receiver->fd);
    if (receiver->path[0] != '\0')
        unlink(receiver->path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    free(receiver);
    return 0;
}

/* The next datagram, or "" when none is queued (the socket is non-blocking,
 * and sendto on AF_UNIX datagrams has queued it before returning). */
static const char *receive(struct receiver *receiver)
{
    static char message[1024];
    ssize_t length = recv(receiver->fd, message, sizeof message - 1, 0);
    if (length < 0) {
        assert_int_equal(errno, EAGAIN);
        length = 0;
    }
    message[length] = '\0';
    return message;
}

static void test_ready_status_extend_stopping(void **state)
{
    struct receiver *receiver = *state;
    notify_status("waiting for lock held by pid 42");
    assert_string_equal(receive(receiver), "STATUS=waiting for lock held by pid 42");
    notify_extend_timeout(31000000);
    assert_string_equal(receive(receiver), "EXTEND_TIMEOUT_USEC=31000000");
    notify_ready();
    const char *ready = receive(receiver);
    assert_memory_equal(ready, "READY=1\n", 8);
    notify_stopping();
    const char *stopping = receive(receiver);
    assert_memory_equal(stopping, "STOPPING=1\n", 11);
    assert_string_equal(receive(receiver), "");
}

static void test_abstract_socket(void **state)
{
    struct receiver *receiver = *state;
    notify_ready();
    assert_memory_equal(receive(receiver), "READY=1\n", 8);
}

static void test_status_newlines_cannot_inject_assignments(void **state)
{
    struct receiver *receiver = *state;
    notify_status("bad\nREADY=1");
    assert_string_equal(receive(receiver), "STATUS=bad READY=1");
}

static void test_nothing_sent_without_notify_socket(void **state)
{
    struct receiver *receiver = *state;
    unsetenv("NOTIFY_SOCKET");
    notify_ready();
    notify_status("x");
    notify_stopping();
    setenv("WATCHDOG_USEC", "1000000", 1);
    notify_watchdog();
    assert_string_equal(receive(receiver), "");
    setenv("NOTIFY_SOCKET", "relative/name", 1); /* not a valid address: ignored */
    notify_ready();
    assert_string_equal(receive(receiver), "");
}

/* The watchdog tests share notify.c's "last sent" stamp, so they run in
 * this order within one test. */
static void test_watchdog_rules(void **state)
{
    struct receiver *receiver = *state;
    notify_watchdog(); /* no WATCHDOG_USEC: disabled */
    assert_string_equal(receive(receiver), "");

    char other_pid[32];
    snprintf(other_pid, sizeof other_pid, "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_USEC", "20000000", 1);
    setenv("WATCHDOG_PID", other_pid, 1); /* meant for another process */
    notify_watchdog();
    assert_string_equal(receive(receiver), "");

    char own_pid[32];
    snprintf(own_pid, sizeof own_pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", own_pid, 1);
    notify_watchdog();
    assert_string_equal(receive(receiver), "WATCHDOG=1");
    /* within half of a 20 s period: rate-limited */
    notify_watchdog();
    notify_watchdog();
    assert_string_equal(receive(receiver), "");

    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "2", 1); /* half a period is 1 us: every call sends */
    usleep(1000);
    notify_watchdog();
    assert_string_equal(receive(receiver), "WATCHDOG=1");

    setenv("WATCHDOG_USEC", "garbage", 1);
    usleep(1000);
    notify_watchdog();
    assert_string_equal(receive(receiver), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ready_status_extend_stopping, set_up_path_socket,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_abstract_socket, set_up_abstract_socket, tear_down),
        cmocka_unit_test_setup_teardown(test_status_newlines_cannot_inject_assignments,
                                        set_up_path_socket, tear_down),
        cmocka_unit_test_setup_teardown(test_nothing_sent_without_notify_socket,
                                        set_up_path_socket, tear_down),
        cmocka_unit_test_setup_teardown(test_watchdog_rules, set_up_path_socket, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
