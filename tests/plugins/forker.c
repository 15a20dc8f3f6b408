/* Test plugin "forker": starts long-lived children the way careless plugin
 * code does, to prove they cannot keep the host's instance lock alive.
 * /fork_bare N: bare fork(), the child sleeps N s; /fork_exec N: fork+exec
 * of `sleep N`. Both reply "forked <pid>" so the test can reap the child. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jarvis/plugin.h>

#define DEFAULT_SLEEP_S 30

static const jv_host_api *api;

static int sleep_seconds(const jv_message *message)
{
    int seconds = message->argc > 0 ? atoi(message->argv[0]) : DEFAULT_SLEEP_S;
    return seconds > 0 ? seconds : DEFAULT_SLEEP_S;
}

/* The child must not hold the host's stdout pipe open: the test reads that
 * pipe to its end once the host is gone. Only async-signal-safe calls here,
 * since the host is multi-threaded. */
static void detach_standard_streams(void)
{
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0)
        _exit(120);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    if (null_fd > 2)
        close(null_fd);
}

static int reply_forked(const jv_message *message, pid_t child)
{
    char text[64];
    if (child < 0)
        return api->reply(message, "fork failed");
    snprintf(text, sizeof text, "forked %ld", (long)child);
    return api->reply(message, text);
}

static int on_fork_bare(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    int seconds = sleep_seconds(message);
    pid_t child = fork();
    if (child == 0) {
        detach_standard_streams();
        struct timespec left = {seconds, 0};
        while (nanosleep(&left, &left) != 0) {
        }
        _exit(0);
    }
    return reply_forked(message, child);
}

static int on_fork_exec(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%d", sleep_seconds(message));
    pid_t child = fork();
    if (child == 0) {
        detach_standard_streams();
        execlp("sleep", "sleep", seconds, (char *)NULL);
        _exit(127);
    }
    return reply_forked(message, child);
}

static int forker_init(jv_plugin *self, const jv_host_api *host, char *err, size_t err_length)
{
    api = host;
    jv_command_spec bare = {
        .struct_size = sizeof bare,
        .name = "fork_bare",
        .usage = "/fork_bare <seconds>",
        .help = "fork a child that sleeps",
        .handler = on_fork_bare,
    };
    jv_command_spec exec = {
        .struct_size = sizeof exec,
        .name = "fork_exec",
        .usage = "/fork_exec <seconds>",
        .help = "fork and exec sleep",
        .handler = on_fork_exec,
    };
    if (api->register_command(self, &bare, sizeof bare) != JV_OK ||
        api->register_command(self, &exec, sizeof exec) != JV_OK) {
        snprintf(err, err_length, "cannot register the fork commands");
        return JV_E_INTERNAL;
    }
    return JV_OK;
}

JV_PLUGIN_DEFINE("forker", "1.0.0", "forks long-lived children (lock inheritance tests)",
                 JV_PLUGIN_CONCURRENT, forker_init, NULL, NULL);
