/* The Telegram transport: getMe and setMyCommands at start, then the
 * getUpdates long-poll loop that journals every update before dispatching
 * it, confirms only finished ones, and backs off on every kind of failure. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <jarvis/plugin.h>

#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "host.h"
#include "lifecycle.h"
#include "log.h"
#include "notify.h"
#include "registry.h"
#include "status.h"
#include "store.h"
#include "telegram_api.h"
#include "telegram_send.h"
#include "telegram_updates.h"
#include "transport.h"

#define EXIT_CONFIG 78
#define POLL_LIMIT 100
#define POLL_SLACK_S 15         /* libcurl's limit above the long-poll timeout */
#define REPOLL_WAIT_MS 1000     /* nothing new fetched: wait for progress this long */
#define STATUS_WRITE_EVERY_MS 1000

enum poll_state { POLL_HEALTHY, POLL_FAILING, POLL_CONFLICT, POLL_FLOOD };

struct telegram {
    struct host *host;
    struct telegram_api *api;
    struct telegram_sender *sender;
    struct update_journal *journal;
    int64_t bot_user_id;
    char *bot_username;
    enum poll_state state;
    struct backoff backoff;
    int failures;
    int64_t last_status_write_ms;
    int webhook_deleted;
};

/* ---- waiting ---- */

/* Sleeps up to ms, returning early (1) when a stop is requested. */
static int sleep_unless_stopped(int64_t ms)
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

/* ---- status keys for `jarvis status` ---- */

static void write_status(struct telegram *telegram, const char *key, const char *value)
{
    if (telegram->host->store != NULL)
        store_set(telegram->host->store, STATUS_SPACE, key, value, strlen(value));
}

static void status_poll_ok(struct telegram *telegram)
{
    int64_t now = monotonic_ms();
    if (now - telegram->last_status_write_ms < STATUS_WRITE_EVERY_MS)
        return;
    telegram->last_status_write_ms = now;
    char value[32];
    snprintf(value, sizeof value, "%" PRId64, wall_ms());
    write_status(telegram, STATUS_KEY_LAST_POLL_OK, value);
}

static void status_error(struct telegram *telegram, const char *line)
{
    char value[320];
    snprintf(value, sizeof value, "%" PRId64 " %s", wall_ms(), line);
    write_status(telegram, STATUS_KEY_LAST_ERROR, value);
}

/* ---- failures of the poll loop: one log line per state change ---- */

static void enter_state(struct telegram *telegram, enum poll_state state, const char *line)
{
    if (telegram->state != state) {
        log_warn("telegram: %s", line);
        status_error(telegram, line);
    }
    telegram->state = state;
}

static void back_off(struct telegram *telegram, enum poll_state state, const char *line)
{
    enter_state(telegram, state, line);
    telegram->failures++;
    int64_t delay = backoff_next_delay(&telegram->backoff);
    log_debug("telegram: retrying in %" PRId64 " ms (failure %d)", delay, telegram->failures);
    sleep_unless_stopped(delay);
}

static void poll_recovered(struct telegram *telegram)
{
    if (telegram->state != POLL_HEALTHY)
        log_info("telegram: getUpdates works again after %d failed attempt(s)",
                 telegram->failures);
    telegram->state = POLL_HEALTHY;
    telegram->failures = 0;
    backoff_reset(&telegram->backoff);
    status_poll_ok(telegram);
}

/* ---- start: getMe, setMyCommands ---- */

static int read_identity(struct telegram *telegram, json_t *user)
{
    json_t *id = json_object_get(user, "id");
    json_t *username = json_object_get(user, "username");
    if (!json_is_integer(id) || !json_is_string(username))
        return -1;
    telegram->bot_user_id = json_integer_value(id);
    free(telegram->bot_username);
    telegram->bot_username = strdup(json_string_value(username));
    return telegram->bot_username ? 0 : -1;
}

/* 0 when known, EXIT_CONFIG for a refused token, -1 when stopped. */
static int call_get_me(struct telegram *telegram)
{
    for (;;) {
        struct telegram_result result;
        telegram_api_call(telegram->api, "getMe", NULL, 30, &result);
        enum telegram_outcome outcome = result.outcome;
        int identity = outcome == TELEGRAM_OK ? read_identity(telegram, result.value) : -1;
        char line[512];
        snprintf(line, sizeof line, "getMe failed (%s); retrying with backoff",
                 identity != 0 && outcome == TELEGRAM_OK ? "answer without id/username"
                                                         : result.description);
        long code = result.error_code;
        telegram_result_release(&result);
        if (identity == 0) {
            poll_recovered(telegram);
            return 0;
        }
        if (outcome == TELEGRAM_UNAUTHORIZED || (outcome == TELEGRAM_REJECTED && code == 404)) {
            log_error("Telegram rejected the bot token (%s)",
                      code == 404 ? "404 Not Found" : "401 Unauthorized");
            return EXIT_CONFIG;
        }
        if (outcome == TELEGRAM_ABORTED || lifecycle_stop_requested())
            return -1;
        if (outcome == TELEGRAM_RETRY_AFTER) {
            sleep_unless_stopped(result.retry_after_s * 1000);
            continue;
        }
        back_off(telegram, POLL_FAILING, line);
    }
}

struct command_list {
    json_t *commands;
    size_t skipped;
};

/* Telegram wants 1..256 characters; cut at a character boundary. */
static json_t *command_description(const char *name, const char *help)
{
    const char *text = help != NULL && help[0] != '\0' ? help : name;
    char **chunks = NULL;
    long count = telegram_split_text(text, 256, &chunks);
    json_t *description = count > 0 ? json_string(chunks[0]) : json_string(name);
    telegram_chunks_free(chunks, count > 0 ? count : 0);
    return description;
}

/* Names need no check here: registration only accepts [a-z0-9_]{1,32},
 * which is what Telegram's menu takes. Its limit of 100 entries is ours. */
static void add_command(const char *name, const char *help, void *context)
{
    struct command_list *list = context;
    if (json_array_size(list->commands) >= 100) {
        list->skipped++;
        return;
    }
    json_t *command = json_object();
    json_object_set_new(command, "command", json_string(name));
    json_object_set_new(command, "description", command_description(name, help));
    json_array_append_new(list->commands, command);
}

static void publish_commands(struct telegram *telegram)
{
    if (telegram->host->registry == NULL)
        return;
    struct command_list list = {.commands = json_array()};
    registry_for_each_command(telegram->host->registry, add_command, &list);
    if (list.skipped > 0)
        log_warn("telegram: %zu command(s) not shown in Telegram's menu (it takes at most "
                 "100)",
                 list.skipped);
    json_t *parameters = json_object();
    json_object_set_new(parameters, "commands", list.commands);
    struct telegram_result result;
    telegram_api_call(telegram->api, "setMyCommands", parameters, 30, &result);
    if (result.outcome != TELEGRAM_OK)
        log_warn("telegram: setMyCommands failed (%s); the command menu may be stale",
                 result.description);
    else
        log_debug("telegram: command menu set (%zu commands)", json_array_size(list.commands));
    telegram_result_release(&result);
    json_decref(parameters);
}

static void on_update_sent(int64_t update_id, void *context)
{
    struct telegram *telegram = context;
    update_journal_done(telegram->journal, update_id);
}

/* ---- TEMPORARY shim (branch `sender` only; the outbox replaces it): the
 * old rule "an update is confirmed once the replies queued on its handler's
 * thread are out", kept over the per-part sender so this file still works.
 * Each part's outbox_id carries its batch. ---- */

struct send_batch {
    int messages; /* parts queued and not finished */
    int held;     /* still a thread's current batch */
    int finished; /* its update was finished: confirm once messages reach 0 */
    int64_t update_id;
    struct telegram *telegram;
    struct send_batch *previous, *next; /* the live list, for teardown */
};

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct send_batch *live_batches;
static pthread_key_t batch_key;
static pthread_once_t batch_key_once = PTHREAD_ONCE_INIT;

/* Under batch_lock: unlinks and frees a batch nobody refers to any more;
 * returns 1 when its update is to be confirmed (after the lock is dropped). */
static int batch_settle(struct send_batch *batch)
{
    if (batch->messages > 0 || batch->held)
        return 0;
    if (batch->previous != NULL)
        batch->previous->next = batch->next;
    else if (live_batches == batch)
        live_batches = batch->next;
    if (batch->next != NULL)
        batch->next->previous = batch->previous;
    return batch->finished;
}

static void batch_release(struct send_batch *batch, int message, int thread)
{
    pthread_mutex_lock(&batch_lock);
    batch->messages -= message;
    if (thread)
        batch->held = 0;
    int free_it = batch->messages == 0 && !batch->held;
    int confirm = batch_settle(batch);
    pthread_mutex_unlock(&batch_lock);
    if (confirm)
        on_update_sent(batch->update_id, batch->telegram);
    if (free_it)
        free(batch);
}

static void batch_thread_exit(void *value)
{
    batch_release(value, 0, 1);
}

static void create_batch_key(void)
{
    if (pthread_key_create(&batch_key, batch_thread_exit) != 0)
        abort(); /* only fails when the process is out of keys at start-up */
}

static void on_part_sent(const struct outgoing_message *message, enum send_outcome outcome,
                         void *context)
{
    (void)outcome;
    (void)context;
    batch_release((struct send_batch *)(intptr_t)message->outbox_id, 1, 0);
}

static struct send_batch *current_batch(struct telegram *telegram)
{
    pthread_once(&batch_key_once, create_batch_key);
    struct send_batch *batch = pthread_getspecific(batch_key);
    if (batch != NULL)
        return batch;
    batch = calloc(1, sizeof *batch);
    if (batch == NULL)
        return NULL;
    batch->held = 1;
    batch->telegram = telegram;
    pthread_mutex_lock(&batch_lock);
    batch->next = live_batches;
    if (live_batches != NULL)
        live_batches->previous = batch;
    live_batches = batch;
    pthread_mutex_unlock(&batch_lock);
    pthread_setspecific(batch_key, batch);
    return batch;
}

static int compat_enqueue(struct telegram *telegram, int64_t chat_id, int64_t thread_id,
                          const char *text)
{
    char **chunks = NULL;
    long count = telegram_split_text(text, TELEGRAM_MESSAGE_LIMIT, &chunks);
    if (count < 0)
        return JV_E_NOMEM;
    if (count == 0) {
        free(chunks);
        return JV_E_INVAL;
    }
    struct send_batch *batch = current_batch(telegram);
    int code = batch == NULL ? JV_E_NOMEM : JV_OK;
    for (long i = 0; code == JV_OK && i < count; i++) {
        struct outgoing_message part = {.outbox_id = (int64_t)(intptr_t)batch,
                                        .update_id = -1,
                                        .chat_id = chat_id,
                                        .thread_id = thread_id,
                                        .text = chunks[i]};
        pthread_mutex_lock(&batch_lock);
        batch->messages++;
        pthread_mutex_unlock(&batch_lock);
        code = telegram_sender_enqueue(telegram->sender, &part);
        if (code != JV_OK) {
            pthread_mutex_lock(&batch_lock);
            batch->messages--;
            pthread_mutex_unlock(&batch_lock);
        }
    }
    telegram_chunks_free(chunks, count);
    return code;
}

static void compat_finish_update(struct telegram *telegram, int64_t update_id)
{
    pthread_once(&batch_key_once, create_batch_key);
    struct send_batch *batch = pthread_getspecific(batch_key);
    if (batch == NULL) {
        on_update_sent(update_id, telegram);
        return;
    }
    pthread_setspecific(batch_key, NULL);
    pthread_mutex_lock(&batch_lock);
    batch->update_id = update_id;
    batch->finished = 1;
    pthread_mutex_unlock(&batch_lock);
    batch_release(batch, 0, 1);
}

/* After the sender is gone no part finishes: batches no thread holds are
 * freed with their updates unconfirmed (handled again after a restart). */
static void compat_free_batches(void)
{
    pthread_mutex_lock(&batch_lock);
    struct send_batch *batch = live_batches;
    while (batch != NULL) {
        struct send_batch *next = batch->next;
        batch->messages = 0;
        batch->finished = 0;
        if (!batch->held) {
            batch_settle(batch);
            free(batch);
        }
        batch = next;
    }
    pthread_mutex_unlock(&batch_lock);
}

static int telegram_start(struct transport *transport, struct host *host)
{
    struct telegram *telegram = transport->state;
    const struct config *config = host->config;
    telegram->host = host;
    /* [bot] backoff_* and send_* are read only here (docs/telegram.md). */
    backoff_init(&telegram->backoff, config->backoff_initial_ms, config->backoff_max_ms);
    if (host->store == NULL) {
        log_error("telegram: no state store; cannot journal updates");
        return 1;
    }
    telegram->api = telegram_api_create(config->api_base, config->token);
    telegram->journal = update_journal_open(host->store);
    struct telegram_send_limits limits = {.per_chat_per_second = config->send_rate_per_chat,
                                          .per_chat_burst = config->send_burst_per_chat,
                                          .total_per_second = config->send_rate_total,
                                          .backoff_initial_ms = config->backoff_initial_ms,
                                          .backoff_max_ms = config->backoff_max_ms};
    telegram->sender =
        telegram_sender_create(config->api_base, config->token, &limits, on_part_sent, telegram);
    if (telegram->api == NULL || telegram->journal == NULL || telegram->sender == NULL) {
        log_error("telegram: out of memory starting the transport");
        return 1;
    }
    telegram_api_set_abort_fd(telegram->api, lifecycle_wake_fd());
    int identity = call_get_me(telegram);
    if (identity == EXIT_CONFIG)
        return EXIT_CONFIG;
    if (identity != 0)
        return 0; /* stopped while retrying: run() returns at once */
    log_info("telegram: connected as @%s", telegram->bot_username);
    publish_commands(telegram);
    return 0;
}

/* ---- run: the poll loop ---- */

static void on_dispatched(int64_t update_id, void *context)
{
    struct telegram *telegram = context;
    compat_finish_update(telegram, update_id);
}

static void skip_poison(struct telegram *telegram, const struct parsed_update *update)
{
    char command[40] = "";
    const char *args = NULL;
    const char *what = "a text message";
    char described[64];
    if (update->kind == UPDATE_TEXT &&
        dispatch_parse_command(update->message.text, telegram->bot_username, command,
                               sizeof command, &args) == 1) {
        snprintf(described, sizeof described, "command /%s", command);
        what = described;
    }
    log_error("telegram: update %" PRId64 " (%s) crashed the bot %d times; skipping it",
              update->update_id, what, UPDATE_MAX_ATTEMPTS);
    if (update->kind == UPDATE_TEXT)
        compat_enqueue(telegram, update->message.chat_id, update->message.message_thread_id,
                       "Sorry, that message crashed the bot three times; skipping it.");
    compat_finish_update(telegram, update->update_id);
}

/* Waits until every dispatched update finished (or a stop is requested). */
static void wait_until_idle(struct telegram *telegram)
{
    while (!lifecycle_stop_requested() && dispatch_drain(telegram->host->dispatch, 200) > 0)
        notify_watchdog();
}

/* An update an earlier run started and never finished may be what killed
 * it: run it alone, so a crash counts against it and not its neighbours. */
static void dispatch_text(struct telegram *telegram, const struct parsed_update *update,
                          int attempt)
{
    int suspect = attempt > 1;
    if (suspect) {
        log_info("telegram: update %" PRId64 " was interrupted by a crash (start %d of %d); "
                 "running it alone",
                 update->update_id, attempt, UPDATE_MAX_ATTEMPTS);
        wait_until_idle(telegram);
    }
    update_journal_record_attempt(telegram->journal, update->update_id, attempt);
    if (dispatch_submit(telegram->host->dispatch, &update->message, on_dispatched, telegram) !=
        0) {
        log_warn("telegram: update %" PRId64 " not dispatched (stopping or out of memory); "
                 "it stays unconfirmed",
                 update->update_id);
        return;
    }
    if (suspect)
        wait_until_idle(telegram);
}

static void handle_fresh_update(struct telegram *telegram, const struct parsed_update *update,
                                int attempt)
{
    switch (update->kind) {
    case UPDATE_TEXT:
        dispatch_text(telegram, update, attempt);
        return;
    case UPDATE_IGNORED:
        log_debug("telegram: update %" PRId64 " is %s; ignored", update->update_id,
                  update->ignored_kind);
        break;
    case UPDATE_BAD:
        log_warn("telegram: update %" PRId64 " skipped: %s", update->update_id,
                 update->problem);
        break;
    }
    update_journal_done(telegram->journal, update->update_id);
}

/* Returns how many of the updates were new to this run. */
static size_t handle_updates(struct telegram *telegram, json_t *updates)
{
    if (!json_is_array(updates)) {
        log_warn("telegram: getUpdates result is not an array; ignored");
        return 0;
    }
    size_t fresh = 0, index;
    json_t *update;
    json_array_foreach(updates, index, update) {
        struct parsed_update parsed;
        telegram_parse_update(update, telegram->bot_user_id, &parsed);
        if (parsed.update_id < 0) {
            log_warn("telegram: an update at position %zu skipped: %s", index, parsed.problem);
            continue;
        }
        int attempt = 0;
        enum journal_decision decision =
            update_journal_begin(telegram->journal, parsed.update_id, &attempt);
        if (decision == JOURNAL_KNOWN)
            continue;
        fresh++;
        if (decision == JOURNAL_ALREADY_DONE)
            log_info("telegram: update %" PRId64 " was handled before a restart; not "
                     "repeating it",
                     parsed.update_id);
        else if (decision == JOURNAL_POISON)
            skip_poison(telegram, &parsed);
        else
            handle_fresh_update(telegram, &parsed, attempt);
    }
    return fresh;
}

/* Nothing new arrived but updates are still in flight: Telegram would hand
 * them back at once, so wait until one finishes instead of spinning. */
static void wait_for_progress(struct telegram *telegram, int64_t sent_offset)
{
    int64_t deadline = monotonic_ms() + REPOLL_WAIT_MS;
    int progress_fd = update_journal_progress_fd(telegram->journal);
    while (!lifecycle_stop_requested() && update_journal_offset(telegram->journal) == sent_offset) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return;
        struct pollfd fds[2] = {{.fd = progress_fd, .events = POLLIN},
                                {.fd = lifecycle_wake_fd(), .events = POLLIN}};
        if (poll(fds, 2, (int)left) > 0 && (fds[0].revents & POLLIN)) {
            uint64_t count;
            ssize_t got = read(progress_fd, &count, sizeof count);
            (void)got;
        }
    }
}

/* The offset to send: the journal's, once it is durable; else the last
 * durable one (sending an offset that is not on disk could lose updates). */
static int64_t durable_offset(struct telegram *telegram, int64_t *persisted)
{
    int64_t offset = update_journal_offset(telegram->journal);
    if (offset > *persisted && update_journal_persist_offset(telegram->journal, offset) == 0)
        *persisted = offset;
    return *persisted;
}

static json_t *poll_parameters(int64_t offset, int timeout_s, int limit)
{
    json_t *parameters = json_object();
    if (offset > 0)
        json_object_set_new(parameters, "offset", json_integer(offset));
    json_object_set_new(parameters, "limit", json_integer(limit));
    json_object_set_new(parameters, "timeout", json_integer(timeout_s));
    json_t *allowed = json_array();
    json_array_append_new(allowed, json_string("message"));
    json_object_set_new(parameters, "allowed_updates", allowed);
    return parameters;
}

/* 1 handled (go on), 0 stop the loop normally, or an exit code > 1. */
static int handle_webhook_conflict(struct telegram *telegram)
{
    if (!telegram->host->config->delete_webhook) {
        log_error("telegram: a webhook is set for this bot, so getUpdates cannot run; "
                  "delete it or set [bot] delete_webhook = true");
        status_error(telegram, "webhook set; getUpdates refused");
        return EXIT_CONFIG;
    }
    log_warn("telegram: a webhook is set; deleting it because [bot] delete_webhook = true");
    struct telegram_result result;
    telegram_api_call(telegram->api, "deleteWebhook", NULL, 30, &result);
    enum telegram_outcome outcome = result.outcome;
    char line[512];
    snprintf(line, sizeof line, "deleteWebhook failed (%s); retrying with backoff",
             result.description);
    telegram_result_release(&result);
    if (outcome == TELEGRAM_UNAUTHORIZED) {
        log_error("Telegram rejected the bot token (401 Unauthorized)");
        return EXIT_CONFIG;
    }
    if (outcome != TELEGRAM_OK)
        back_off(telegram, POLL_FAILING, line);
    return 1;
}

/* Acts on one getUpdates answer: 1 go on, 0 stopped, >1 exit code. */
static int handle_poll_result(struct telegram *telegram, struct telegram_result *result,
                              int64_t sent_offset)
{
    char line[512];
    switch (result->outcome) {
    case TELEGRAM_OK: {
        poll_recovered(telegram);
        update_journal_forget_below(telegram->journal, sent_offset);
        size_t fresh = handle_updates(telegram, result->value);
        if (fresh == 0 && update_journal_in_flight(telegram->journal) > 0)
            wait_for_progress(telegram, sent_offset);
        return 1;
    }
    case TELEGRAM_RETRY_AFTER:
        snprintf(line, sizeof line, "getUpdates hit flood control; waiting %" PRId64 " s",
                 result->retry_after_s);
        enter_state(telegram, POLL_FLOOD, line);
        sleep_unless_stopped(result->retry_after_s * 1000);
        return 1;
    case TELEGRAM_UNAUTHORIZED:
        log_error("Telegram rejected the bot token (401 Unauthorized)");
        status_error(telegram, "401 Unauthorized");
        return EXIT_CONFIG;
    case TELEGRAM_CONFLICT_WEBHOOK:
        return handle_webhook_conflict(telegram);
    case TELEGRAM_CONFLICT_POLLER:
        back_off(telegram, POLL_CONFLICT,
                 "another poller is using this bot token (409 Conflict: terminated by other "
                 "getUpdates request); backing off. Stop the other instance (another host or "
                 "deployment)");
        return 1;
    case TELEGRAM_ABORTED:
        return 0;
    default:
        snprintf(line, sizeof line, "getUpdates failing (%ld %s); retrying with backoff",
                 result->error_code, result->description);
        back_off(telegram, POLL_FAILING, line);
        return 1;
    }
}

/* A clean stop: finish in-flight work, then tell Telegram what is done so a
 * restart repeats nothing. */
static void finish_cleanly(struct telegram *telegram, int64_t persisted, int64_t last_sent)
{
    const struct config *config = telegram->host->config;
    int64_t started = monotonic_ms();
    size_t unfinished = dispatch_drain(telegram->host->dispatch, config->shutdown_grace_ms);
    int64_t left = config->shutdown_grace_ms - (monotonic_ms() - started);
    size_t unsent = telegram_sender_flush(telegram->sender, left > 0 ? left : 0);
    if (unfinished > 0 || unsent > 0)
        log_warn("telegram: stopping with %zu update(s) unfinished and %zu message(s) unsent; "
                 "they will be handled again after a restart",
                 unfinished, unsent);
    int64_t offset = durable_offset(telegram, &persisted);
    if (offset <= last_sent)
        return;
    telegram_api_set_abort_fd(telegram->api, -1);
    json_t *parameters = poll_parameters(offset, 0, 1);
    struct telegram_result result;
    telegram_api_call(telegram->api, "getUpdates", parameters, 5, &result);
    if (result.outcome != TELEGRAM_OK)
        log_warn("telegram: could not confirm handled updates at stop (%s); a restart "
                 "will skip them from the journal",
                 result.description);
    telegram_result_release(&result);
    json_decref(parameters);
    update_journal_forget_below(telegram->journal, offset);
}

static int telegram_run(struct transport *transport, struct host *host)
{
    struct telegram *telegram = transport->state;
    (void)host;
    if (telegram->bot_username == NULL)
        return 0; /* start() was interrupted by a stop */
    write_status(telegram, STATUS_KEY_POLLING, "1");
    int poll_timeout = telegram->host->config->poll_timeout;
    int64_t persisted = update_journal_offset(telegram->journal);
    int64_t last_sent = -1;
    int outcome = 1;
    while (outcome == 1 && !lifecycle_stop_requested()) {
        notify_watchdog();
        int64_t offset = durable_offset(telegram, &persisted);
        json_t *parameters = poll_parameters(offset, poll_timeout, POLL_LIMIT);
        struct telegram_result result;
        telegram_api_call(telegram->api, "getUpdates", parameters, poll_timeout + POLL_SLACK_S,
                          &result);
        json_decref(parameters);
        if (result.outcome != TELEGRAM_ABORTED)
            last_sent = offset;
        outcome = handle_poll_result(telegram, &result, offset);
        telegram_result_release(&result);
    }
    write_status(telegram, STATUS_KEY_POLLING, "0");
    if (outcome > 1)
        return outcome;
    finish_cleanly(telegram, persisted, last_sent);
    return 0;
}

/* ---- the rest of the interface ---- */

static int telegram_send(struct transport *transport, int64_t chat_id, const char *text)
{
    struct telegram *telegram = transport->state;
    if (telegram->sender == NULL)
        return JV_E_STATE;
    if (text == NULL)
        return JV_E_INVAL;
    return compat_enqueue(telegram, chat_id, 0, text);
}

static int telegram_send_to_thread(struct transport *transport, int64_t chat_id,
                                   int64_t thread_id, const char *text)
{
    struct telegram *telegram = transport->state;
    if (telegram->sender == NULL)
        return JV_E_STATE;
    if (text == NULL)
        return JV_E_INVAL;
    return compat_enqueue(telegram, chat_id, thread_id, text);
}

static const char *telegram_bot_username(struct transport *transport)
{
    struct telegram *telegram = transport->state;
    return telegram->bot_username ? telegram->bot_username : "";
}

static void telegram_destroy(struct transport *transport)
{
    if (transport == NULL)
        return;
    struct telegram *telegram = transport->state;
    telegram_sender_destroy(telegram->sender);
    compat_free_batches();
    telegram_api_destroy(telegram->api);
    update_journal_close(telegram->journal);
    free(telegram->bot_username);
    free(telegram);
    free(transport);
}

struct transport *telegram_transport_create(void)
{
    struct transport *transport = calloc(1, sizeof *transport);
    struct telegram *telegram = calloc(1, sizeof *telegram);
    if (transport == NULL || telegram == NULL) {
        free(transport);
        free(telegram);
        return NULL;
    }
    srandom((unsigned int)(monotonic_ms() ^ getpid()));
    transport->name = "telegram";
    transport->state = telegram;
    transport->start = telegram_start;
    transport->run = telegram_run;
    transport->send = telegram_send;
    transport->send_to_thread = telegram_send_to_thread;
    transport->bot_username = telegram_bot_username;
    transport->destroy = telegram_destroy;
    return transport;
}
