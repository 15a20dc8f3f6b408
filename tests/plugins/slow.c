/* Test plugin "slow" (concurrent): handlers that sleep, block on a named
 * gate until another handler opens it (parallelism proven by handshake, not
 * timing), echo for ordering checks, a deferred answer given later from the
 * plugin's own thread, and a periodic job that detects overlapping runs of
 * itself. Used by the dispatch, lifecycle and pipeline tests. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jarvis/plugin.h>

#define GATE_COUNT 32
#define GATE_NAME_MAX 32
#define DEFAULT_GUARD_MS 20000

static const jv_host_api *api;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_opened = PTHREAD_COND_INITIALIZER;
static struct {
    char name[GATE_NAME_MAX];
    int open;
} gates[GATE_COUNT];

/* /later: answers waiting for their time, answered by one thread of ours */
struct later_answer {
    jv_deferred *deferred;
    struct timespec due;
    char text[256];
    struct later_answer *next;
};

static pthread_mutex_t later_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t later_changed = PTHREAD_COND_INITIALIZER;
static struct later_answer *later_queue;
static pthread_t later_thread;
static int later_thread_started;
static int later_stopping;

static atomic_int job_running;
static atomic_int job_ticks;
static atomic_int job_overlaps;
static int64_t job_sleep_ms;
static int64_t job_chat;

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec duration = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&duration, &duration) != 0) {
    }
}

static int reply_format(const jv_message *message, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static int reply_format(const jv_message *message, const char *format, ...)
{
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    api->reply(message, text);
    return JV_OK;
}

/* Finds or creates the gate; call with gate_lock held. */
static int gate_index(const char *name)
{
    int free_slot = -1;
    for (int i = 0; i < GATE_COUNT; i++) {
        if (gates[i].name[0] == '\0') {
            if (free_slot < 0)
                free_slot = i;
        } else if (strcmp(gates[i].name, name) == 0) {
            return i;
        }
    }
    if (free_slot >= 0)
        snprintf(gates[free_slot].name, GATE_NAME_MAX, "%s", name);
    return free_slot;
}

static struct timespec realtime_after(int64_t ms)
{
    struct timespec when;
    clock_gettime(CLOCK_REALTIME, &when);
    when.tv_sec += (time_t)(ms / 1000);
    when.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (when.tv_nsec >= 1000000000L) {
        when.tv_sec++;
        when.tv_nsec -= 1000000000L;
    }
    return when;
}

/* /block NAME [GUARD_MS]: waits until some other handler runs /unblock NAME. */
static int on_block(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    if (message->argc < 1)
        return reply_format(message, "usage: /block NAME [GUARD_MS]");
    const char *name = message->argv[0];
    int64_t guard = message->argc > 1 ? atoll(message->argv[1]) : DEFAULT_GUARD_MS;
    struct timespec deadline = realtime_after(guard);
    pthread_mutex_lock(&gate_lock);
    /* /block NAME GUARD_MS FILE: FILE appears once the handler waits, so a
     * test can queue the next message while this one surely runs */
    if (message->argc > 2) {
        FILE *marker = fopen(message->argv[2], "w");
        if (marker != NULL)
            fclose(marker);
    }
    int index = gate_index(name);
    int opened = 0;
    while (index >= 0 && !(opened = gates[index].open))
        if (pthread_cond_timedwait(&gate_opened, &gate_lock, &deadline) != 0)
            break;
    if (index >= 0)
        opened = gates[index].open;
    pthread_mutex_unlock(&gate_lock);
    if (opened)
        return reply_format(message, "unblocked %s", name);
    return reply_format(message, "block %s timed out", name);
}

static int on_unblock(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    if (message->argc < 1)
        return reply_format(message, "usage: /unblock NAME");
    pthread_mutex_lock(&gate_lock);
    int index = gate_index(message->argv[0]);
    if (index >= 0)
        gates[index].open = 1;
    pthread_cond_broadcast(&gate_opened);
    pthread_mutex_unlock(&gate_lock);
    return reply_format(message, "unblocking %s", message->argv[0]);
}

static int on_sleep(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    int64_t ms = message->argc > 0 ? atoll(message->argv[0]) : 0;
    /* /sleep MS FILE: FILE appears once the handler runs, so a test can
     * act (send a signal) while it is surely in progress */
    if (message->argc > 1) {
        FILE *marker = fopen(message->argv[1], "w");
        if (marker != NULL)
            fclose(marker);
    }
    sleep_ms(ms);
    return reply_format(message, "slept %lld", (long long)ms);
}

static int on_say(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return reply_format(message, "%s", message->args);
}

static int on_argv(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    char text[400] = "";
    size_t used = 0;
    for (int i = 0; i < message->argc && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "[%s]", message->argv[i]);
    return reply_format(message, "argc=%d %s%s", message->argc, text,
                        message->argv[message->argc] == NULL ? "" : " NOT-NULL-TERMINATED");
}

static int timespec_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Takes the answer that is due first once it is due; NULL when stopping. */
static struct later_answer *take_due_answer(void)
{
    pthread_mutex_lock(&later_lock);
    struct later_answer *due = NULL;
    while (!later_stopping && due == NULL) {
        struct later_answer **first = &later_queue;
        for (struct later_answer **item = &later_queue; *item != NULL; item = &(*item)->next)
            if (timespec_before(&(*item)->due, &(*first)->due))
                first = item;
        if (*first == NULL) {
            pthread_cond_wait(&later_changed, &later_lock);
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (timespec_before(&now, &(*first)->due)) {
            pthread_cond_timedwait(&later_changed, &later_lock, &(*first)->due);
            continue;
        }
        due = *first;
        *first = due->next;
    }
    pthread_mutex_unlock(&later_lock);
    return due;
}

static void *answer_later(void *unused)
{
    (void)unused;
    struct later_answer *answer;
    while ((answer = take_due_answer()) != NULL) {
        api->deferred_reply(answer->deferred, answer->text);
        api->deferred_finish(answer->deferred);
        free(answer);
    }
    return NULL;
}

/* /later MS TEXT: holds the update open and answers TEXT from the plugin's
 * own thread MS ms later, while the chat's next messages are handled. */
static int on_later(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    if (message->argc < 2)
        return reply_format(message, "usage: /later MS TEXT");
    struct later_answer *answer = calloc(1, sizeof *answer);
    if (answer == NULL)
        return JV_E_NOMEM;
    const char *text = strchr(message->args, ' ');
    snprintf(answer->text, sizeof answer->text, "%s", text != NULL ? text + 1 : "");
    answer->due = realtime_after(atoll(message->argv[0]));
    pthread_mutex_lock(&later_lock);
    int ready = later_thread_started ||
                pthread_create(&later_thread, NULL, answer_later, NULL) == 0;
    later_thread_started = ready;
    answer->deferred = ready ? api->defer_reply(message) : NULL;
    if (answer->deferred != NULL) {
        answer->next = later_queue;
        later_queue = answer;
        pthread_cond_broadcast(&later_changed);
    }
    pthread_mutex_unlock(&later_lock);
    if (answer->deferred == NULL) {
        free(answer);
        return reply_format(message, "cannot defer");
    }
    return JV_OK;
}

/* Answers not yet due are dropped unfinished: the host keeps their updates
 * for the next start, as the ABI documents. */
static void slow_shutdown(jv_plugin *self)
{
    (void)self;
    pthread_mutex_lock(&later_lock);
    later_stopping = 1;
    pthread_cond_broadcast(&later_changed);
    int started = later_thread_started;
    pthread_mutex_unlock(&later_lock);
    if (started)
        pthread_join(later_thread, NULL);
    while (later_queue != NULL) {
        struct later_answer *next = later_queue->next;
        free(later_queue);
        later_queue = next;
    }
}

static int on_jobstats(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return reply_format(message, "ticks %d overlaps %d", atomic_load(&job_ticks),
                        atomic_load(&job_overlaps));
}

static int on_admin(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return reply_format(message, "admin ok");
}

/* Free text starting "slow?" gets a report of how the host addressed it. */
static int on_text(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    if (strncmp(message->text, "slow?", 5) != 0)
        return JV_CONTINUE;
    reply_format(message, "heard private=%d mentions=%d reply=%d command=%s", message->is_private,
                 message->mentions_bot, message->is_reply_to_bot,
                 message->command == NULL ? "null" : message->command);
    return JV_HANDLED;
}

static int on_tick(jv_plugin *self, void *user_data)
{
    (void)user_data;
    if (atomic_fetch_add(&job_running, 1) > 0)
        atomic_fetch_add(&job_overlaps, 1);
    int tick = atomic_fetch_add(&job_ticks, 1) + 1;
    if (job_chat != 0) {
        char text[64];
        snprintf(text, sizeof text, "slow tick %d", tick);
        api->send_message(self, job_chat, text);
    }
    sleep_ms(job_sleep_ms);
    atomic_fetch_sub(&job_running, 1);
    return JV_OK;
}

static int add_command(jv_plugin *self, const char *name, const char *help, uint32_t flags,
                       jv_command_fn handler)
{
    jv_command_spec spec = {sizeof spec, name, name, help, flags, handler, NULL, NULL};
    return api->register_command(self, &spec, sizeof spec);
}

static int register_job_if_configured(jv_plugin *self)
{
    int64_t interval = api->config_get_int(self, "job_interval_ms", 0);
    if (interval <= 0)
        return JV_OK;
    job_sleep_ms = api->config_get_int(self, "job_sleep_ms", 0);
    job_chat = api->config_get_int(self, "job_chat", 1);
    jv_job_spec spec = {sizeof spec, "tick", interval,
                        api->config_get_int(self, "job_delay_ms", 0), on_tick, NULL, NULL};
    return api->register_job(self, &spec, sizeof spec);
}

static int slow_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t err_length)
{
    api = host_api;
    int result = 0;
    result |= add_command(self, "sleep", "sleep N ms, then reply", 0, on_sleep);
    result |= add_command(self, "block", "wait until /unblock NAME", 0, on_block);
    result |= add_command(self, "unblock", "open a gate", 0, on_unblock);
    result |= add_command(self, "say", "reply with the arguments", 0, on_say);
    result |= add_command(self, "argv", "show the argument split", 0, on_argv);
    result |= add_command(self, "later", "answer TEXT MS ms later from another thread", 0,
                          on_later);
    result |= add_command(self, "jobstats", "job ticks and overlaps", 0, on_jobstats);
    result |= add_command(self, "slowadmin", "admins only", JV_COMMAND_ADMIN, on_admin);
    jv_message_handler_spec text_spec = {sizeof text_spec, 0, on_text, NULL, NULL};
    result |= api->register_message_handler(self, &text_spec, sizeof text_spec);
    result |= register_job_if_configured(self);
    if (result != 0) {
        snprintf(err, err_length, "registration failed");
        return JV_E_INTERNAL;
    }
    return JV_OK;
}

JV_PLUGIN_DEFINE("slow", "1.0", "test plugin: slow and blocking handlers", JV_PLUGIN_CONCURRENT,
                 slow_init, NULL, slow_shutdown);
