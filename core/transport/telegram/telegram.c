/* The Telegram transport: the getUpdates long-poll loop feeding the
 * pipeline (each batch committed to the inbox, then confirmed by the next
 * poll's offset), the outbox delivered by the concurrent sender, and the
 * bot's identity and command menu kept in the store so that a new holder
 * polls first and refreshes them after. Backs off on every failure. */
#include "transport/telegram/telegram.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <jarvis/plugin.h>

#include "base/backoff.h"
#include "base/clock.h"
#include "config/config.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "instance/host_lease.h"
#include "instance/instance.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "base/pick_tree.h"
#include "instance/notify.h"
#include "plugin/registry.h"
#include "state/store.h"
#include "base/metrics.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_chat_admins.h"
#include "transport/telegram/telegram_metrics.h"
#include "transport/telegram/telegram_send.h"
#include "transport/telegram/telegram_update.h"
#include "dispatch/pipeline.h"
#include "base/test_hooks.h"
#include "transport/transport.h"
#include "plugin/help.h"
#include "transport/telegram/telegram_split.h"
#include "base/core_keys.h"
#include "state/store_pipeline.h"
#include "transport/telegram/webhook_ingress.h"
#include "transport/telegram/webhook_setup.h"

#define POLL_LIMIT 100
#define POLL_SLACK_S 15              /* libcurl's limit above the long-poll timeout */
#define NO_PROGRESS_WAIT_MS 1000     /* a poll that brought nothing new: wait before the next */
#define STORE_DOWN_WAIT_MS 200       /* how often a poll loop waiting for the store asks again */
#define OFFSET_KEY "telegram.offset" /* space "core": the next offset to ask for */
#define IDENTITY_KEY "telegram.identity" /* "<token's bot id> <getMe id> <username>" */
#define COMMANDS_KEY "telegram.commands" /* the menu last published, as sent */
#define STATUS_WRITE_EVERY_MS 1000

enum poll_state { POLL_HEALTHY, POLL_FAILING, POLL_CONFLICT, POLL_FLOOD, POLL_STORE_FAILING };

struct telegram {
    struct host *host;
    struct telegram_api *api;
    struct telegram_api *typing_api;          /* the typing timer's own connection */
    struct telegram_chat_admins *chat_admins; /* for JV_COMMAND_GROUP_ADMIN commands */
    struct telegram_sender *sender;
    struct pipeline *pipeline;
    int64_t next_offset; /* what the next getUpdates confirms up to */
    int identity_cached; /* identity came from the store: refresh after the first poll */
    int prefetched;      /* prefetch ran (identity and offset are read) */
    int64_t bot_user_id;
    char *bot_username;
    enum poll_state state;
    struct backoff backoff;
    int failures;
    int64_t last_status_write_ms;
    int webhook_deleted;
};

/* ---- waiting ---- */

/* ---- status keys for `jarvis status` ---- */

static void write_status(struct telegram *telegram, const char *key, const char *value)
{
    if (telegram->host->store != NULL)
        store_set(telegram->host->store, CORE_SPACE, key, value, strlen(value));
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
    notify_sleep(delay);
}

static void poll_recovered(struct telegram *telegram)
{
    /* the poll works but the store does not: only a batch committed again
     * (accept_batch) ends that state, or every poll would log it anew and
     * restart the backoff from its shortest delay */
    if (telegram->state == POLL_STORE_FAILING)
        return;
    if (telegram->state != POLL_HEALTHY && telegram->failures > 0)
        log_info("telegram: getUpdates works again after %d failed attempt%s", telegram->failures,
                 telegram->failures == 1 ? "" : "s");
    else if (telegram->state != POLL_HEALTHY)
        log_info("telegram: getUpdates works again");
    telegram->state = POLL_HEALTHY;
    telegram->failures = 0;
    backoff_reset(&telegram->backoff);
    status_poll_ok(telegram);
}

/* ---- start: getMe, setMyCommands ---- */

/* The bot id is the token's numeric prefix ("123456:ABC..."); a cached
 * identity of another bot is ignored. */
static int64_t token_bot_id(const char *token)
{
    int64_t id = 0;
    size_t digits = 0;
    for (; token[digits] >= '0' && token[digits] <= '9' && digits < 18; digits++)
        id = id * 10 + (token[digits] - '0');
    return digits > 0 && token[digits] == ':' ? id : -1;
}

static int read_identity(struct telegram *telegram, json_t *user)
{
    json_t *id = json_object_get(user, "id");
    json_t *username = json_object_get(user, "username");
    if (!json_is_integer(id) || !json_is_string(username))
        return -1;
    telegram->bot_user_id = json_integer_value(id);
    free(telegram->bot_username);
    telegram->bot_username = strdup(json_string_value(username));
    if (telegram->bot_username == NULL)
        return -1;
    char value[160];
    int length = snprintf(value, sizeof value, "%" PRId64 " %" PRId64 " %s",
                          token_bot_id(telegram->host->config->token), telegram->bot_user_id,
                          telegram->bot_username);
    if (length > 0 && (size_t)length < sizeof value)
        store_set(telegram->host->store, CORE_SPACE, IDENTITY_KEY, value, (size_t)length);
    return 0;
}

/* 0 when known, EX_CONFIG for a refused token, -1 when stopped. */
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
            return EX_CONFIG;
        }
        if (outcome == TELEGRAM_ABORTED || lifecycle_stop_requested())
            return -1;
        if (outcome == TELEGRAM_RETRY_AFTER) {
            notify_sleep(result.retry_after_s * 1000);
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
    char *published = json_dumps(parameters, JSON_COMPACT | JSON_SORT_KEYS);
    char *previous = NULL;
    size_t previous_length = 0;
    int unchanged = published != NULL &&
                    store_get(telegram->host->store, CORE_SPACE, COMMANDS_KEY, &previous,
                              &previous_length) == 0 &&
                    strcmp(previous, published) == 0;
    free(previous);
    if (unchanged) {
        log_debug("telegram: command menu unchanged; not published again");
    } else {
        struct telegram_result result;
        telegram_api_call(telegram->api, "setMyCommands", parameters, 30, &result);
        if (result.outcome != TELEGRAM_OK)
            log_warn("telegram: setMyCommands failed (%s); the command menu may be stale",
                     result.description);
        else if (published != NULL)
            store_set(telegram->host->store, CORE_SPACE, COMMANDS_KEY, published,
                      strlen(published));
        telegram_result_release(&result);
    }
    free(published);
    json_decref(parameters);
}

/* ---- the cached identity ---- */

static int load_cached_identity(struct telegram *telegram)
{
    char *value = NULL;
    size_t length = 0;
    if (store_get(telegram->host->store, CORE_SPACE, IDENTITY_KEY, &value, &length) != 0)
        return -1;
    char username[80];
    long long token_id = 0, id = 0;
    int ok = sscanf(value, "%lld %lld %79s", &token_id, &id, username) == 3 &&
             token_id == token_bot_id(telegram->host->config->token);
    free(value);
    if (!ok)
        return -1;
    telegram->bot_user_id = id;
    telegram->bot_username = strdup(username);
    return telegram->bot_username != NULL ? 0 : -1;
}

static int64_t read_offset(struct store *store)
{
    char *value = NULL;
    size_t length = 0;
    if (store_get(store, CORE_SPACE, OFFSET_KEY, &value, &length) != 0)
        return 0;
    char *end = NULL;
    long long offset = strtoll(value, &end, 10);
    if (end == value || offset < 0) {
        log_warn("telegram: stored offset '%.40s' is unreadable; starting from Telegram's", value);
        offset = 0;
    }
    free(value);
    return offset;
}

/* ---- delivery: the outbox through the sender ---- */

static int deliver_part(void *context, const struct outbox_row *row)
{
    struct telegram *telegram = context;
    struct outgoing_message message = {.outbox_id = row->id,
                                       .update_id = row->update_id,
                                       .chat_id = row->chat_id,
                                       .thread_id = row->thread_id,
                                       .text = row->text,
                                       .method = row->method,
                                       .options = row->options,
                                       .file = row->file,
                                       .file_length = row->file_length,
                                       .file_name = row->file_name,
                                       .reference = row->reference,
                                       .target = row->target};
    return telegram_sender_enqueue(telegram->sender, &message);
}

/* What Telegram called a referenced message is kept before the part
 * leaves the outbox, so an edit queued behind it always finds it. */
static void on_part_sent(const struct outgoing_message *message, enum send_outcome outcome,
                         void *context)
{
    struct telegram *telegram = context;
    /* a refused part is logged by the sender and done with all the same */
    int known =
        outcome == SEND_DELIVERED && message->reference != 0 && message->sent_message_id > 0;
    struct outbox_row part = {.id = message->outbox_id,
                              .update_id = message->update_id,
                              .chat_id = message->chat_id,
                              .text = message->text};
    pipeline_sent_as(telegram->pipeline, &part, known ? message->reference : 0, message->chat_id,
                     known ? message->sent_message_id : 0);
}

/* The mark of the chat's previous part commits before this one goes out. */
static void before_part_sent(int64_t chat_id, void *context)
{
    struct telegram *telegram = context;
    pipeline_before_send(telegram->pipeline, chat_id);
}

static int store_is_up(void *context)
{
    struct telegram *telegram = context;
    return store_available(telegram->host->store);
}

/* Below 2^32 a target is Telegram's own message id (a button press carries
 * one); above, it is a host reference. */
static int64_t resolve_target(int64_t target, void *context)
{
    struct telegram *telegram = context;
    if (target < ((int64_t)1 << 32))
        return target;
    int64_t message_id = 0;
    return store_sent_lookup(telegram->host->store, target, &message_id) == 0 ? message_id : 0;
}

static long split_for_telegram(const char *text, int html, char ***parts)
{
    return html ? telegram_split_html(text, TELEGRAM_MESSAGE_LIMIT, parts)
                : telegram_split_text(text, TELEGRAM_MESSAGE_LIMIT, parts);
}

/* A direct call, not an outbox row: a lost "typing" costs nothing. */
static void send_typing(int64_t chat_id, int64_t thread_id, void *context)
{
    struct telegram *telegram = context;
    json_t *parameters = json_pack("{sI ss}", "chat_id", (json_int_t)chat_id, "action", "typing");
    if (parameters == NULL)
        return;
    if (thread_id != 0)
        json_object_set_new(parameters, "message_thread_id", json_integer(thread_id));
    struct telegram_result result;
    telegram_api_call_without_result(telegram->typing_api, "sendChatAction", parameters, 10,
                                     &result);
    if (result.outcome != TELEGRAM_OK)
        log_debug("telegram: sendChatAction to chat %" PRId64 " failed (%s)", chat_id,
                  result.description);
    telegram_result_release(&result);
    json_decref(parameters);
}

/* The sender's gate: closed while the store is down, and while the lease
 * across hosts is not surely ours (another host may poll and send). */
static int lease_valid(struct telegram *telegram)
{
    return telegram->host->lock == NULL || host_lease_valid(telegram->host->lock->lease);
}

/* and, for webhook hosts sharing the store, while our claim on the
 * outbox rows surely holds (pipeline_may_send) */
static int may_send(void *context)
{
    struct telegram *telegram = context;
    return lease_valid(telegram) && pipeline_may_send(telegram->pipeline) && store_is_up(telegram);
}

static int holds_lock(struct telegram *telegram)
{
    return telegram->host->lock == NULL || instance_still_held(telegram->host->lock);
}

static int telegram_start(struct transport *transport, struct host *host)
{
    struct telegram *telegram = transport->state;
    const struct config *config = host->config;
    telegram->host = host;
    /* [bot] backoff_* and send_* are read only here (docs/telegram.md). */
    backoff_init(&telegram->backoff, config->backoff_initial_ms, config->backoff_max_ms);
    if (host->store == NULL) {
        log_error("telegram: no state store; cannot keep the inbox");
        return 1;
    }
    if (telegram->api == NULL)
        telegram->api = telegram_api_create(config->api_base, config->token);
    struct telegram_send_limits limits = {.per_chat_per_second = config->send_rate_per_chat,
                                          .per_chat_burst = config->send_burst_per_chat,
                                          .total_per_second = config->send_rate_total,
                                          .backoff_initial_ms = config->backoff_initial_ms,
                                          .backoff_max_ms = config->backoff_max_ms,
                                          .connections = config->send_connections};
    telegram->sender =
        telegram_sender_create(config->api_base, config->token, &limits, on_part_sent, telegram);
    struct pipeline_delivery delivery = {.deliver = deliver_part,
                                         .split = split_for_telegram,
                                         .free_parts = telegram_chunks_free,
                                         .context = telegram};
    telegram->pipeline = pipeline_create(host, &delivery);
    telegram->typing_api = telegram_api_create(config->api_base, config->token);
    telegram->chat_admins = telegram_chat_admins_create(config->api_base, config->token);
    if (telegram->api == NULL || telegram->sender == NULL || telegram->pipeline == NULL ||
        telegram->typing_api == NULL || telegram->chat_admins == NULL) {
        log_error("telegram: out of memory starting the transport");
        return 1;
    }
    telegram_sender_set_resolver(telegram->sender, resolve_target, telegram);
    telegram_sender_set_gate(telegram->sender, may_send, telegram);
    telegram_sender_set_before_send(telegram->sender, before_part_sent, telegram);
    telegram_api_set_abort_fd(telegram->typing_api, lifecycle_wake_fd());
    if (host->dispatch != NULL) {
        dispatch_set_typing(host->dispatch, send_typing, telegram);
        dispatch_set_admin_lookup(host->dispatch, telegram_chat_admins_check,
                                  telegram->chat_admins);
    }
    host->pipeline = telegram->pipeline;
    telegram_api_set_abort_fd(telegram->api, lifecycle_wake_fd());
    if (telegram->prefetched) {
        log_info("telegram: @%s (known from the last run; refreshed after the first poll)",
                 telegram->bot_username);
        return 0;
    }
    telegram->next_offset = read_offset(host->store);
    if (load_cached_identity(telegram) == 0) {
        telegram->identity_cached = 1;
        log_info("telegram: @%s (known from the last run; refreshed after the first poll)",
                 telegram->bot_username);
        return 0;
    }
    int identity = call_get_me(telegram);
    if (identity == EX_CONFIG)
        return EX_CONFIG;
    if (identity != 0)
        return 0; /* stopped while retrying: run() returns at once */
    log_info("telegram: connected as @%s", telegram->bot_username);
    publish_commands(telegram);
    return 0;
}

/* ---- run: the poll loop ---- */

/* After the first poll of a holder that polled with a cached identity: a
 * new username must reach the dispatcher, a revoked token stops the bot. */
static int refresh_identity(struct telegram *telegram)
{
    telegram->identity_cached = 0;
    char *before = telegram->bot_username ? strdup(telegram->bot_username) : NULL;
    int identity = call_get_me(telegram);
    if (identity == 0 && (before == NULL || strcmp(before, telegram->bot_username) != 0)) {
        log_info("telegram: the bot is now @%s", telegram->bot_username);
        dispatch_set_bot_username(telegram->host->dispatch, telegram->bot_username);
    }
    free(before);
    if (identity == EX_CONFIG)
        return EX_CONFIG;
    if (identity == 0)
        publish_commands(telegram);
    return 0;
}

struct poll_batch {
    struct incoming_message *messages;
    size_t count;
    int64_t highest_id; /* -1: no element had a readable update_id */
    size_t elements;
};

static void note_update(struct telegram *telegram, const struct parsed_update *update)
{
    metrics_count(METRIC_UPDATES, update->kind == UPDATE_BAD ? "bad" : "skipped", NULL);
    if (update->kind == UPDATE_IGNORED)
        log_debug("telegram: update %" PRId64 " is %s; ignored", update->update_id,
                  update->ignored_kind);
    else if (update->kind == UPDATE_BAD)
        log_warn("telegram: update %" PRId64 " skipped: %s", update->update_id, update->problem);
    (void)telegram;
}

/* One element read into the batch (its message borrows the strings). */
static void collect_update(struct telegram *telegram, const struct parsed_update *parsed,
                           size_t index, struct poll_batch *batch)
{
    if (parsed->update_id < 0) {
        log_warn("telegram: an update at position %zu skipped: %s", index, parsed->problem);
        metrics_count(METRIC_UPDATES, "bad", NULL);
        return;
    }
    if (parsed->update_id > batch->highest_id)
        batch->highest_id = parsed->update_id;
    if (parsed->kind == UPDATE_TEXT)
        batch->messages[batch->count++] = parsed->message;
    else
        note_update(telegram, parsed);
}

static size_t node_count(const struct pick_node *array)
{
    size_t count = 0;
    for (const struct pick_node *element = array->first; element != NULL; element = element->next)
        count++;
    return count;
}

/* Parses the elements of a getUpdates result (read in one pass, or by the
 * full path); the messages borrow their strings from the result. */
static int collect_batch(struct telegram *telegram, const struct telegram_result *result,
                         struct poll_batch *batch)
{
    memset(batch, 0, sizeof *batch);
    batch->highest_id = -1;
    json_t *updates = result->value;
    if (result->updates == NULL && !json_is_array(updates)) {
        log_warn("telegram: getUpdates result is not an array; ignored");
        return 0;
    }
    batch->elements =
        result->updates != NULL ? node_count(result->updates) : json_array_size(updates);
    batch->messages = calloc(batch->elements ? batch->elements : 1, sizeof *batch->messages);
    if (batch->messages == NULL)
        return -1;
    unsigned flags = telegram->host->config->handle_edited_messages ? TELEGRAM_PARSE_EDITS : 0;
    struct parsed_update parsed;
    size_t index = 0;
    if (result->updates != NULL) {
        for (const struct pick_node *update = result->updates->first; update != NULL;
             update = update->next, index++) {
            telegram_parse_update_node(update, telegram->bot_user_id, flags, &parsed);
            collect_update(telegram, &parsed, index, batch);
        }
        return 0;
    }
    json_t *update;
    json_array_foreach(updates, index, update)
    {
        telegram_parse_update_with(update, telegram->bot_user_id, flags, &parsed);
        collect_update(telegram, &parsed, index, batch);
    }
    return 0;
}

/* Telegram may start update ids anew, lower, after a week without updates:
 * the batch's highest id then sits below our offset. Taking it as the new
 * base is the only way to hear the bot again. */
static int64_t offset_after(struct telegram *telegram, const struct poll_batch *batch)
{
    int64_t next = batch->highest_id < INT64_MAX ? batch->highest_id + 1 : INT64_MAX;
    if (next < telegram->next_offset)
        log_warn("telegram: update ids went backwards (got %" PRId64 " after asking from %" PRId64
                 "); Telegram restarted its numbering, re-basing the offset on it",
                 batch->highest_id, telegram->next_offset);
    return next;
}

/* Commits the batch to the inbox and moves the offset; on a store failure
 * the offset stays, so Telegram hands the batch again. */
static void accept_batch(struct telegram *telegram, const struct telegram_result *result)
{
    struct poll_batch batch;
    if (collect_batch(telegram, result, &batch) != 0) {
        back_off(telegram, POLL_FAILING, "out of memory reading getUpdates; retrying");
        return;
    }
    if (batch.highest_id < 0) {
        free(batch.messages);
        if (batch.elements > 0)
            notify_sleep(NO_PROGRESS_WAIT_MS); /* unreadable ids: no progress possible now */
        return;
    }
    int64_t next = offset_after(telegram, &batch);
    if (pipeline_accept(telegram->pipeline, batch.messages, batch.count, OFFSET_KEY, next) != 0) {
        free(batch.messages);
        if (!store_available(telegram->host->store))
            return; /* the store logged that it is down; the loop waits for it */
        back_off(telegram, POLL_STORE_FAILING,
                 "cannot write updates to the state store (disk full or I/O error?); they "
                 "stay with Telegram, retrying with backoff");
        return;
    }
    if (telegram->state == POLL_STORE_FAILING) {
        log_info("telegram: the state store takes updates again");
        telegram->failures = 0;
        backoff_reset(&telegram->backoff);
        status_poll_ok(telegram);
    }
    telegram->state = POLL_HEALTHY;
    int progressed = next != telegram->next_offset;
    telegram->next_offset = next;
    free(batch.messages);
    if (!progressed)
        notify_sleep(NO_PROGRESS_WAIT_MS);
}

static json_t *poll_parameters(int64_t offset, int timeout_s, int limit)
{
    json_t *parameters = json_object();
    if (offset > 0)
        json_object_set_new(parameters, "offset", json_integer(offset));
    json_object_set_new(parameters, "limit", json_integer(limit));
    json_object_set_new(parameters, "timeout", json_integer(timeout_s));
    json_object_set_new(parameters, "allowed_updates", telegram_allowed_updates());
    return parameters;
}

/* 1 handled (go on), 0 stop the loop normally, or an exit code > 1. */
static int handle_webhook_conflict(struct telegram *telegram)
{
    if (!telegram->host->config->delete_webhook) {
        log_error("telegram: a webhook is set for this bot, so getUpdates cannot run; "
                  "delete it or set [bot] delete_webhook = true");
        status_error(telegram, "webhook set; getUpdates refused");
        return EX_CONFIG;
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
        return EX_CONFIG;
    }
    if (outcome != TELEGRAM_OK)
        back_off(telegram, POLL_FAILING, line);
    return 1;
}

/* Acts on one getUpdates answer: 1 go on, 0 stopped, >1 exit code. */
static int handle_poll_result(struct telegram *telegram, struct telegram_result *result)
{
    char line[512];
    telegram_metrics_poll(result);
    switch (result->outcome) {
        case TELEGRAM_OK:
            poll_recovered(telegram);
            accept_batch(telegram, result);
            if (telegram->identity_cached)
                return refresh_identity(telegram) == EX_CONFIG ? EX_CONFIG : 1;
            return 1;
        case TELEGRAM_RETRY_AFTER:
            snprintf(line, sizeof line, "getUpdates hit flood control; waiting %" PRId64 " s",
                     result->retry_after_s);
            enter_state(telegram, POLL_FLOOD, line);
            notify_sleep(result->retry_after_s * 1000);
            return 1;
        case TELEGRAM_UNAUTHORIZED:
            log_error("Telegram rejected the bot token (401 Unauthorized)");
            status_error(telegram, "401 Unauthorized");
            return EX_CONFIG;
        case TELEGRAM_CONFLICT_WEBHOOK: return handle_webhook_conflict(telegram);
        case TELEGRAM_CONFLICT_POLLER:
            back_off(telegram, POLL_CONFLICT,
                     "another poller is using this bot token (409 Conflict: terminated by other "
                     "getUpdates request); backing off. Stop the other instance (another host or "
                     "deployment)");
            return 1;
        case TELEGRAM_ABORTED: return 0;
        default:
            snprintf(line, sizeof line, "getUpdates failing (%ld %s); retrying with backoff",
                     result->error_code, result->description);
            back_off(telegram, POLL_FAILING, line);
            return 1;
    }
}

/* A clean stop: handlers and sends in flight get the grace period; what
 * is left waits in the inbox and outbox for the next start. The offset
 * was stored with the last batch, so the next holder confirms it. */
static void finish_cleanly(struct telegram *telegram)
{
    const struct config *config = telegram->host->config;
    int64_t started = monotonic_ms();
    size_t unfinished = dispatch_drain(telegram->host->dispatch, config->shutdown_grace_ms);
    int64_t left = config->shutdown_grace_ms - (monotonic_ms() - started);
    pipeline_flush(telegram->pipeline); /* the last handled commits deliver their parts */
    size_t unsent = telegram_sender_flush(telegram->sender, left > 0 ? left : 0);
    if (unfinished > 0 || unsent > 0)
        log_warn("telegram: stopping with %zu update(s) unhandled and %zu message(s) unsent; "
                 "they wait in the state store for the next start",
                 unfinished, unsent);
}

/* mode = polling after a run in webhook mode: getUpdates answers 409 until
 * the webhook is gone. 1 go on, 0 stopped, EX_CONFIG for a bad token. */
static int remove_our_webhook(struct telegram *telegram)
{
    while (webhook_setup_marked(telegram->host->store) && !lifecycle_stop_requested()) {
        struct telegram_result result;
        webhook_setup_delete(telegram->api, telegram->host->store, &result);
        enum telegram_outcome outcome = result.outcome;
        char line[512];
        snprintf(line, sizeof line, "deleteWebhook failed (%s); retrying with backoff",
                 result.description);
        telegram_result_release(&result);
        if (outcome == TELEGRAM_OK) {
            log_info("telegram: mode = polling; deleted the webhook of the last run "
                     "(pending updates kept)");
            return 1;
        }
        if (outcome == TELEGRAM_UNAUTHORIZED) {
            log_error("Telegram rejected the bot token (401 Unauthorized)");
            return EX_CONFIG;
        }
        if (outcome == TELEGRAM_ABORTED)
            return 0;
        back_off(telegram, POLL_FAILING, line);
    }
    return lifecycle_stop_requested() ? 0 : 1;
}

static int poll_loop(struct telegram *telegram)
{
    int poll_timeout = telegram->host->config->poll_timeout;
    int outcome = remove_our_webhook(telegram);
    int recovered = 0;
    if (telegram->prefetched) {
        /* the first round trip is done: what waits is in the inbox */
        recovered = 1;
        if (pipeline_recover(telegram->pipeline) != 0)
            log_error("telegram: cannot read the inbox and outbox of the last run");
    }
    while (outcome == 1 && !lifecycle_stop_requested()) {
        notify_watchdog();
        if (!holds_lock(telegram)) {
            outcome = INSTANCE_EXIT_LOCK_LOST;
            break;
        }
        /* a store that is down (PostgreSQL restarting) could not take the
         * updates, and a lease not renewed in time may be another host's:
         * the updates stay with Telegram until both are back */
        if (!store_available(telegram->host->store) || !lease_valid(telegram)) {
            notify_sleep(STORE_DOWN_WAIT_MS);
            continue;
        }
        /* the first poll does not wait: the inbox of the last run is
         * recovered right after it */
        json_t *parameters =
            poll_parameters(telegram->next_offset, recovered ? poll_timeout : 0, POLL_LIMIT);
        struct telegram_result result;
        test_hook_reached("poll-before-request");
        telegram_api_call_for_updates(telegram->api, parameters, poll_timeout + POLL_SLACK_S,
                                      &result);
        json_decref(parameters);
        /* a batch answered after the lease ran out (this process was
         * stopped, say) is the new holder's: it is not confirmed, so
         * Telegram hands it to that holder */
        if (!holds_lock(telegram)) {
            telegram_result_release(&result);
            outcome = INSTANCE_EXIT_LOCK_LOST;
            break;
        }
        if (!lease_valid(telegram)) {
            telegram_result_release(&result);
            continue;
        }
        /* the first poll goes out before the recovery: a new holder's
         * first round trip is what a takeover waits for */
        if (!recovered) {
            recovered = 1;
            if (pipeline_recover(telegram->pipeline) != 0)
                log_error("telegram: cannot read the inbox and outbox of the last run");
        }
        outcome = handle_poll_result(telegram, &result);
        telegram_result_release(&result);
    }
    return outcome;
}

static int telegram_run(struct transport *transport, struct host *host)
{
    struct telegram *telegram = transport->state;
    (void)host;
    if (telegram->bot_username == NULL)
        return 0; /* start() was interrupted by a stop */
    int outcome;
    if (telegram->host->config->bot_mode == BOT_MODE_WEBHOOK) {
        /* no first poll to wait for: the cached identity is checked now */
        if (telegram->identity_cached && refresh_identity(telegram) == EX_CONFIG)
            return EX_CONFIG;
        write_status(telegram, STATUS_KEY_POLLING, "0"); /* a stale "1" of a killed poller */
        struct webhook_ingress ingress = {.host = telegram->host,
                                          .api = telegram->api,
                                          .pipeline = telegram->pipeline,
                                          .bot_user_id = telegram->bot_user_id,
                                          .backoff = &telegram->backoff};
        outcome = webhook_ingress_run(&ingress);
    } else {
        write_status(telegram, STATUS_KEY_POLLING, "1");
        outcome = poll_loop(telegram);
        write_status(telegram, STATUS_KEY_POLLING, "0");
    }
    if (outcome > 1)
        return outcome;
    finish_cleanly(telegram);
    return 0;
}

/* ---- prefetch: the new holder's first round trip ---- */

static void prefetch_batch(struct telegram *telegram, const struct telegram_result *result)
{
    struct poll_batch batch;
    if (collect_batch(telegram, result, &batch) != 0)
        return;
    if (batch.highest_id >= 0) {
        int64_t next = offset_after(telegram, &batch);
        if (pipeline_store_batch(telegram->host->store, batch.messages, batch.count, OFFSET_KEY,
                                 next) == 0)
            telegram->next_offset = next;
    }
    free(batch.messages);
}

/* A holder that knows its identity from the store asks Telegram for what
 * waits before loading any plugin; a first start (no identity yet) does
 * getMe in start() instead. */
static void telegram_prefetch(struct transport *transport, struct host *host)
{
    struct telegram *telegram = transport->state;
    telegram->host = host;
    if (host->config->bot_mode == BOT_MODE_WEBHOOK) /* updates come by POST */
        return;
    if (host->store == NULL || load_cached_identity(telegram) != 0)
        return;
    telegram->identity_cached = 1;
    telegram->next_offset = read_offset(host->store);
    telegram->api = telegram_api_create(host->config->api_base, host->config->token);
    if (telegram->api == NULL)
        return;
    telegram_api_set_abort_fd(telegram->api, lifecycle_wake_fd());
    telegram->prefetched = 1;
    /* after webhook mode the poll would only meet a 409: run() deletes it */
    if (webhook_setup_marked(host->store))
        return;
    json_t *parameters = poll_parameters(telegram->next_offset, 0, POLL_LIMIT);
    struct telegram_result result;
    test_hook_reached("poll-before-request");
    telegram_api_call_for_updates(telegram->api, parameters, POLL_SLACK_S, &result);
    json_decref(parameters);
    if (result.outcome == TELEGRAM_OK)
        prefetch_batch(telegram, &result);
    telegram_result_release(&result);
}

/* ---- the rest of the interface ---- */

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
    if (telegram->host != NULL && telegram->host->dispatch != NULL) {
        dispatch_set_typing(telegram->host->dispatch, NULL, NULL);
        dispatch_set_admin_lookup(telegram->host->dispatch, NULL, NULL);
    }
    telegram_chat_admins_destroy(telegram->chat_admins);
    pipeline_flush(telegram->pipeline); /* delivers while the sender is there */
    telegram_sender_destroy(telegram->sender);
    telegram_api_destroy(telegram->api);
    telegram_api_destroy(telegram->typing_api);
    if (telegram->host != NULL && telegram->host->pipeline == telegram->pipeline)
        telegram->host->pipeline = NULL;
    pipeline_destroy(telegram->pipeline);
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
    transport->prefetch = telegram_prefetch;
    transport->start = telegram_start;
    transport->run = telegram_run;
    transport->bot_username = telegram_bot_username;
    transport->destroy = telegram_destroy;
    return transport;
}
