/* systemd's notify protocol without libsystemd: one AF_UNIX datagram per
 * message to $NOTIFY_SOCKET ("/path" or "@abstract"), as sd_notify(3)
 * sends it. Every call is a no-op when the variable is unset. */
#include "instance/notify.h"

#include "base/clock.h"
#include "base/lifecycle.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Monotonic microseconds of the last WATCHDOG=1 sent; 0 = never. */
static _Atomic uint64_t last_watchdog_usec;

static int notify_address(struct sockaddr_un *address, socklen_t *length)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (name == NULL || (name[0] != '/' && name[0] != '@'))
        return -1;
    size_t name_length = strlen(name);
    if (name_length < 2 || name_length > sizeof address->sun_path)
        return -1;
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, name, name_length);
    /* An abstract name is the bytes after a leading NUL, and its length is
     * exact: no terminator counts. */
    if (name[0] == '@')
        address->sun_path[0] = '\0';
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name_length);
    return 0;
}

/* A fresh socket per message keeps this stateless and thread-safe; the
 * messages are rare (the watchdog sends at most twice per period). */
static void send_message(const char *message)
{
    struct sockaddr_un address;
    socklen_t address_length;
    if (notify_address(&address, &address_length) != 0)
        return;
    int saved_errno = errno;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        ssize_t ignored = sendto(fd, message, strlen(message), MSG_NOSIGNAL,
                                 (struct sockaddr *)&address, address_length);
        (void)ignored; /* no supervisor listening is not our failure */
        close(fd);
    }
    errno = saved_errno;
}

/* sd_watchdog_enabled(3): WATCHDOG_USEC applies to us unless WATCHDOG_PID
 * names another process (e.g. a wrapper shell). Returns the period or 0. */
static uint64_t watchdog_period_usec(void)
{
    const char *text = getenv("WATCHDOG_USEC");
    if (text == NULL || text[0] == '\0')
        return 0;
    char *end = NULL;
    unsigned long long period = strtoull(text, &end, 10);
    if (*end != '\0' || period == 0)
        return 0;
    const char *pid_text = getenv("WATCHDOG_PID");
    if (pid_text != NULL && pid_text[0] != '\0') {
        long long pid = strtoll(pid_text, &end, 10);
        if (*end != '\0' || pid != (long long)getpid())
            return 0;
    }
    return (uint64_t)period;
}

void notify_ready(void)
{
    char message[64];
    snprintf(message, sizeof message, "READY=1\nSTATUS=running (pid %ld)", (long)getpid());
    send_message(message);
}

void notify_status(const char *text)
{
    char message[512];
    snprintf(message, sizeof message, "STATUS=%s", text != NULL ? text : "");
    /* The protocol is one assignment per line: a newline in the text would
     * start a new (bogus) assignment. */
    for (char *cursor = message; *cursor != '\0'; cursor++)
        if (*cursor == '\n' || *cursor == '\r')
            *cursor = ' ';
    send_message(message);
}

void notify_extend_timeout(uint64_t microseconds)
{
    char message[64];
    snprintf(message, sizeof message, "EXTEND_TIMEOUT_USEC=%" PRIu64, microseconds);
    send_message(message);
}

void notify_watchdog(void)
{
    const char *socket_name = getenv("NOTIFY_SOCKET");
    if (socket_name == NULL || socket_name[0] == '\0')
        return;
    uint64_t period = watchdog_period_usec();
    if (period == 0)
        return;
    /* millisecond resolution is plenty against a period of seconds */
    uint64_t now = (uint64_t)monotonic_ms() * 1000u;
    uint64_t last = atomic_load(&last_watchdog_usec);
    if (last != 0 && now - last < period / 2)
        return;
    /* Two threads racing here: only the one that moves the stamp sends. */
    if (!atomic_compare_exchange_strong(&last_watchdog_usec, &last, now))
        return;
    send_message("WATCHDOG=1");
}

void notify_stopping(void)
{
    char message[64];
    snprintf(message, sizeof message, "STOPPING=1\nSTATUS=stopping (pid %ld)", (long)getpid());
    send_message(message);
}

int notify_sleep(int64_t ms)
{
    int64_t deadline = monotonic_ms() + ms;
    while (!lifecycle_stop_requested()) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd wake = {.fd = lifecycle_wake_fd(), .events = POLLIN};
        poll(&wake, 1, left > 1000 ? 1000 : (int)left);
        notify_watchdog();
    }
    return 1;
}
