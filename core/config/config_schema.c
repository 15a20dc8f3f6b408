/* The table of the core's own plugins.ini keys and the one parser per value
 * type. Adding a key means adding a row here and a field in struct config;
 * parsing, defaults, `jarvis check -v` and docs/config.md follow. */
#include "config/config_schema.h"

#include "config/settings.h"
#include "base/log.h"
#include "base/plugin_name.h"
#include "base/core_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(member)                                                                              \
    .offset = offsetof(struct config, member), .size = sizeof(((struct config *)0)->member)

static const char *const transport_names[] = {"auto", "telegram", "console", NULL};
static const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};     /* enum log_format */
static const char *const bot_mode_names[] = {"polling", "webhook", NULL}; /* enum bot_mode */
static const char *const state_backend_names[] = {"sqlite", "postgres", NULL};

const struct config_key config_keys[] = {
    {"bot", "token", CONFIG_TEXT, CONFIG_SECRET, .default_value = "", FIELD(token),
     .meaning = "Telegram bot token, normally `env:TELEGRAM_BOT_TOKEN`. Never put the token "
                "itself into a file under version control. Empty: no Telegram."},
    {"bot", "api_base", CONFIG_URL, 0, .default_value = "https://api.telegram.org", FIELD(api_base),
     .meaning = "Base URL of the Bot API; tests point it at a local fake. A trailing `/` is "
                "removed."},
    {"bot", "transport", CONFIG_CHOICE, 0, .choices = transport_names, .default_value = "auto",
     FIELD(transport),
     .meaning = "`auto` (Telegram when a token is set, else console), `telegram` (a token is "
                "then required; the error names this line), or `console`."},
    {"bot", "mode", CONFIG_CHOICE, 0, .choices = bot_mode_names, .default_value = "polling",
     FIELD(bot_mode),
     .meaning = "How updates arrive: `polling` (getUpdates) or `webhook` (Telegram POSTs "
                "them to `[webhook] url`, served on `[webhook] listen` behind a TLS reverse "
                "proxy; see docs/webhook.md). Switching back to `polling` deletes the "
                "webhook before the first getUpdates."},
    {"bot", "poll_timeout", CONFIG_INTEGER, 0, 0, 600, .default_value = "50", FIELD(poll_timeout),
     .meaning = "Long-poll timeout of `getUpdates` in seconds (`0` is short polling, for "
                "tests only)."},
    {"bot", "workers", CONFIG_INTEGER, 0, 1, 64, .default_value = "4", FIELD(workers),
     .meaning = "Handler threads."},
    {"bot", "state_dir", CONFIG_PATH, CONFIG_NONEMPTY, .default_value = "state", FIELD(state_dir),
     .meaning = "Directory of the durable state (`jarvis.db`). Created with mode 0700 if "
                "missing."},
    {"bot", "log_file", CONFIG_PATH, 0, .default_value = "", FIELD(log_file),
     .meaning = "Log file (appended, mode 0600, reopened on SIGHUP for logrotate). Empty: "
                "stderr."},
    {"bot", "log_level", CONFIG_CHOICE, 0, .choices = log_level_names, .default_value = "info",
     FIELD(log_level), .meaning = "How much the log says."},
    {"bot", "log_format", CONFIG_CHOICE, 0, .choices = log_format_names, .default_value = "text",
     FIELD(log_format),
     .meaning = "`text`: one line per event; `json`: one JSON object per line, for log "
                "shippers."},
    {"bot", "admins", CONFIG_ID_LIST, 0, .default_value = "", FIELD(admins),
     .count_offset = offsetof(struct config, admin_count),
     .meaning = "Telegram user ids allowed to run admin commands, separated by commas "
                "and/or spaces (`11, 22 33`)."},
    {"bot", "handler_budget_ms", CONFIG_INTEGER, 0, 1, 86400000, .default_value = "10000",
     FIELD(handler_budget_ms),
     .meaning = "A handler running longer than this is reported in the log."},
    {"bot", "shutdown_grace_ms", CONFIG_INTEGER, 0, 1, 3600000, .default_value = "10000",
     FIELD(shutdown_grace_ms),
     .meaning = "How long SIGTERM waits for running handlers (and plugin shutdowns) before "
                "exiting anyway."},
    {"bot", "allow_core_dumps", CONFIG_BOOLEAN, 0, .default_value = "false",
     FIELD(allow_core_dumps),
     .meaning = "Allow core dumps (they hold the token: only for debugging). Off: the "
                "process is not dumpable."},
    {"bot", "reply_quotes", CONFIG_BOOLEAN, 0, .default_value = "true", FIELD(reply_quotes),
     .meaning = "In groups an answer quotes the question it answers (reply_parameters); "
                "private chats never quote."},
    {"bot", "handle_edited_messages", CONFIG_BOOLEAN, 0, .default_value = "false",
     FIELD(handle_edited_messages),
     .meaning = "An edited message is handled again (the plugin sees it marked as edited); "
                "off: edits are ignored."},
    {"bot", "delete_webhook", CONFIG_BOOLEAN, 0, .default_value = "false", FIELD(delete_webhook),
     .meaning = "When Telegram answers 409 because a webhook is set, delete it (otherwise "
                "jarvis reports it and exits 78)."},
    {"bot", "backoff_initial_ms", CONFIG_INTEGER, 0, 1, 3600000, .default_value = "1000",
     FIELD(backoff_initial_ms),
     .meaning = "First retry delay after a failed Telegram call; it doubles on each failure."},
    {"bot", "backoff_max_ms", CONFIG_INTEGER, 0, 1, 3600000, .default_value = "60000",
     FIELD(backoff_max_ms), .meaning = "Cap of the doubling retry delay."},
    {"bot", "send_rate_per_chat", CONFIG_NUMBER, 0, 0, 1000000, .default_value = "1",
     FIELD(send_rate_per_chat),
     .meaning = "Messages per second sent to one chat (a number, e.g. `0.5`)."},
    {"bot", "send_burst_per_chat", CONFIG_NUMBER, 0, 0, 1000000, .default_value = "3",
     FIELD(send_burst_per_chat),
     .meaning = "Messages a quiet chat may receive at once before `send_rate_per_chat` "
                "applies."},
    {"bot", "chat_backlog_in_memory", CONFIG_INTEGER, 0, 1, 100000, .default_value = "256",
     FIELD(chat_backlog_in_memory),
     .meaning = "Updates of one chat held in memory at once (being handled, or their replies "
                "waiting to be sent); a flooding chat's further updates wait in the inbox "
                "table, in order, until room frees up."},
    {"bot", "send_rate_total", CONFIG_NUMBER, 0, 0, 1000000, .default_value = "30",
     FIELD(send_rate_total),
     .meaning = "Messages per second over all chats (Telegram's bulk limit)."},
    {"bot", "send_connections", CONFIG_INTEGER, 0, 1, 64, .default_value = "4",
     FIELD(send_connections),
     .meaning = "Text messages to different chats in flight at once, each on its own "
                "kept-alive connection; a kill -9 may repeat at most this many replies."},
    {"lock", "path", CONFIG_PATH, 0, .default_value = "", FIELD(lock_path),
     .meaning = "The single-instance lock file; a missing directory is created with mode "
                "0700. Empty: `$XDG_RUNTIME_DIR/jarvis.lock`, else inside `state_dir`."},
    {"lock", "max_wait", CONFIG_INTEGER, 0, 0, INT_MAX, .default_value = "30", FIELD(lock_max_wait),
     .meaning = "Seconds a second instance waits for the lock before exiting 75. `0` waits "
                "forever."},
    {"state", "backend", CONFIG_CHOICE, 0, .choices = state_backend_names,
     .default_value = "sqlite", FIELD(state_backend),
     .meaning = "Where the durable state lives: `sqlite` (`jarvis.db` in `state_dir`) or "
                "`postgres` (the database `dsn` names; see docs/postgres.md)."},
    {"state", "dsn", CONFIG_TEXT, CONFIG_SECRET, .default_value = "", FIELD(state_dsn),
     .meaning = "With `backend = postgres`: a libpq connection string or URI, normally "
                "`env:JARVIS_PG_DSN`. Its password is never logged or shown."},
    {"state", "lease_s", CONFIG_INTEGER, 0, 1, 3600, .default_value = "10", FIELD(lease_s),
     .meaning = "With `backend = postgres`: seconds without a heartbeat after which a standby "
                "host ends the holder's database session and takes over the polling; the "
                "holder stops polling and sending before that (docs/failover.md)."},
    {"plugins", "dir", CONFIG_PATH_LIST, CONFIG_NONEMPTY, .default_value = "plugins",
     FIELD(plugin_dir),
     .meaning = "Directories holding the plugins' `.so` files, separated by `:` "
                "(`/usr/local/lib/jarvis/plugins:/usr/lib/jarvis/plugins`). A plugin is "
                "loaded from the first directory that has its file."},
    {"plugins", "enable", CONFIG_NAME_LIST, 0, .default_value = "", FIELD(enable),
     .count_offset = offsetof(struct config, enable_count),
     .meaning = "Plugins to load, in load order, separated by commas (spaces allowed): "
                "`hello, sentiment`. Each name is 1–32 characters `a-z 0-9 _`, not `bot`, "
                "`lock`, `plugins` or `core` (the core's namespace in the state database), "
                "listed once."},
    {"metrics", "listen", CONFIG_TEXT, 0, .default_value = "", FIELD(metrics_listen),
     .meaning = "`HOST:PORT` to serve Prometheus metrics on (GET /metrics). Empty: no "
                "metrics server. Only a loopback address unless allow_remote is set."},
    {"metrics", "allow_remote", CONFIG_BOOLEAN, 0, .default_value = "false",
     FIELD(metrics_allow_remote),
     .meaning = "Allow `listen` on an address other machines can reach."},
    {"webhook", "listen", CONFIG_TEXT, 0, .default_value = "127.0.0.1:8443", FIELD(webhook_listen),
     .meaning = "`HOST:PORT` the webhook listener binds (plain HTTP: the reverse proxy in "
                "front terminates TLS). Only a loopback address unless allow_remote is set."},
    {"webhook", "allow_remote", CONFIG_BOOLEAN, 0, .default_value = "false",
     FIELD(webhook_allow_remote),
     .meaning = "Allow `listen` on an address other machines can reach (a proxy on another "
                "host; the secret then crosses that network in clear)."},
    {"webhook", "url", CONFIG_TEXT, 0, .default_value = "", FIELD(webhook_url),
     .meaning = "The public `https://` URL Telegram POSTs to (the proxy's; Telegram takes "
                "ports 443, 80, 88 and 8443). Required with `mode = webhook`."},
    {"webhook", "path", CONFIG_TEXT, 0, .default_value = "", FIELD(webhook_path),
     .meaning = "The only path the listener answers (POST). Empty: the path of `url`, as a "
                "proxy that passes the path through sends it."},
    {"webhook", "secret", CONFIG_TEXT, CONFIG_SECRET, .default_value = "", FIELD(webhook_secret),
     .meaning = "The secret_token Telegram sends in `X-Telegram-Bot-Api-Secret-Token`, "
                "normally `env:JARVIS_WEBHOOK_SECRET`: 1-256 characters `A-Z a-z 0-9 _ -`. "
                "Empty: one is generated and kept in the state store."},
    {"webhook", "max_connections", CONFIG_INTEGER, 0, 1, 100, .default_value = "40",
     FIELD(webhook_max_connections),
     .meaning = "setWebhook's max_connections: how many HTTPS connections Telegram opens at "
                "once to deliver updates."},
    {NULL, NULL, CONFIG_TEXT, 0, .default_value = NULL, .offset = 0},
};

char *config_copy_text(const char *text)
{
    char *copy = strdup(text != NULL ? text : "");
    if (copy == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    return copy;
}

/* Secrets are masked before the cut: the first bytes of a longer env:
 * secret would no longer match it, and the later redaction of the whole
 * message would let them through. */
const char *config_quote(const char *value, char *buffer, size_t size)
{
    size_t length = strlen(value);
    char masked[length + 1];
    memcpy(masked, value, length + 1);
    log_redact(masked, sizeof masked);
    if (strlen(masked) < size)
        snprintf(buffer, size, "%s", masked);
    else
        snprintf(buffer, size, "%.*s...", (int)(size - 4), masked);
    for (char *p = buffer; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    return buffer;
}

const struct config_key *config_schema_find(const char *section, const char *name)
{
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        if (strcmp(key->section, section) == 0 && strcmp(key->name, name) == 0)
            return key;
    }
    return NULL;
}

int config_schema_is_section(const char *name)
{
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        if (strcmp(key->section, name) == 0)
            return 1;
    }
    return 0;
}

/* Levenshtein distance over two short key names (longer ones are not keys). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t a_length = strlen(a), b_length = strlen(b);
    if (a_length > 63 || b_length > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= b_length; j++)
        row[j] = j;
    for (size_t i = 1; i <= a_length; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b_length; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[b_length];
}

const char *config_schema_suggest(const char *section, const char *name)
{
    size_t allowed = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
    const char *best = NULL;
    size_t best_distance = allowed + 1;
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        if (strcmp(key->section, section) != 0)
            continue;
        size_t distance = edit_distance(name, key->name);
        if (distance < best_distance) {
            best = key->name;
            best_distance = distance;
        }
    }
    return best;
}

/* ---- one parser per type ---- */

static void *field_of(struct config *config, const struct config_key *key)
{
    return (char *)config + key->offset;
}

static const void *const_field_of(const struct config *config, const struct config_key *key)
{
    return (const char *)config + key->offset;
}

static void store_text(struct config *config, const struct config_key *key, const char *text)
{
    char **field = field_of(config, key);
    char *copy = config_copy_text(text);
    free(*field);
    *field = copy;
}

static int parse_integer(const char *text, long long minimum, long long maximum, long long *result)
{
    if (text[0] == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < minimum || value > maximum)
        return -1;
    *result = value;
    return 0;
}

static int set_integer(struct config *config, const struct config_key *key, const char *text,
                       char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    long long value = 0;
    if (parse_integer(text, key->minimum, key->maximum, &value) != 0) {
        snprintf(problem, problem_size, "%s must be an integer %lld..%lld (found '%s')", key->name,
                 key->minimum, key->maximum, config_quote(text, buffer, sizeof buffer));
        return -1;
    }
    if (key->size == sizeof(int))
        *(int *)field_of(config, key) = (int)value;
    else
        *(int64_t *)field_of(config, key) = value;
    return 0;
}

/* strtod, so "0.5" and "30" both work */
static int set_number(struct config *config, const struct config_key *key, const char *text,
                      char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    char *end = NULL;
    double number = strtod(text, &end);
    if (end == text || *end != '\0' || !(number > 0) || number > (double)key->maximum) {
        snprintf(problem, problem_size, "%s must be a number above 0 and at most %g (found '%s')",
                 key->name, (double)key->maximum, config_quote(text, buffer, sizeof buffer));
        return -1;
    }
    *(double *)field_of(config, key) = number;
    return 0;
}

static int set_boolean(struct config *config, const struct config_key *key, const char *text,
                       char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    if (config_parse_boolean(text, field_of(config, key)) != 0) {
        snprintf(problem, problem_size,
                 "%s must be a boolean (found '%s', expected true/false/yes/no/on/off/1/0)",
                 key->name, config_quote(text, buffer, sizeof buffer));
        return -1;
    }
    return 0;
}

static void join_choices(const char *const *choices, char *out, size_t size)
{
    size_t count = 0;
    while (choices[count] != NULL)
        count++;
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const char *separator = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", separator, choices[i]);
    }
}

static int set_choice(struct config *config, const struct config_key *key, const char *text,
                      char *problem, size_t problem_size)
{
    for (int i = 0; key->choices[i] != NULL; i++) {
        if (strcasecmp(text, key->choices[i]) == 0) {
            *(int *)field_of(config, key) = i;
            return 0;
        }
    }
    char buffer[CONFIG_QUOTE_MAX];
    char expected[128];
    join_choices(key->choices, expected, sizeof expected);
    snprintf(problem, problem_size, "unknown %s (found '%s', expected %s)", key->name,
             config_quote(text, buffer, sizeof buffer), expected);
    return -1;
}

static int set_url(struct config *config, const struct config_key *key, const char *text,
                   char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    if (strncmp(text, "http://", 7) != 0 && strncmp(text, "https://", 8) != 0) {
        snprintf(problem, problem_size, "%s must be an http:// or https:// URL (found '%s')",
                 key->name, config_quote(text, buffer, sizeof buffer));
        return -1;
    }
    store_text(config, key, text);
    /* "https://host/" and "https://host" must build the same request URLs */
    char *url = *(char **)field_of(config, key);
    size_t length = strlen(url);
    while (length > 0 && url[length - 1] == '/')
        url[--length] = '\0';
    return 0;
}

/* Splits on commas and blanks; the non-empty items. */
static char **split_list(const char *value, size_t *count)
{
    char *copy = config_copy_text(value);
    char **items = NULL;
    char *saved = NULL;
    *count = 0;
    for (char *item = strtok_r(copy, ", \t", &saved); item != NULL;
         item = strtok_r(NULL, ", \t", &saved)) {
        char **grown = realloc(items, (*count + 1) * sizeof *items);
        if (grown == NULL) {
            fprintf(stderr, "jarvis: out of memory\n");
            abort();
        }
        items = grown;
        items[(*count)++] = config_copy_text(item);
    }
    free(copy);
    return items;
}

static void free_list(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static int set_id_list(struct config *config, const struct config_key *key, const char *text,
                       char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    size_t count = 0;
    char **items = split_list(text, &count);
    int64_t *ids = count > 0 ? calloc(count, sizeof *ids) : NULL;
    if (count > 0 && ids == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    for (size_t i = 0; i < count; i++) {
        long long id = 0;
        if (parse_integer(items[i], 1, LLONG_MAX, &id) != 0) {
            snprintf(problem, problem_size,
                     "%s must be a comma-separated list of Telegram user ids (found '%s', "
                     "expected a positive integer)",
                     key->name, config_quote(items[i], buffer, sizeof buffer));
            free(ids);
            free_list(items, count);
            return -1;
        }
        ids[i] = id;
    }
    free_list(items, count);
    int64_t **field = field_of(config, key);
    free(*field);
    *field = ids;
    *(size_t *)((char *)config + key->count_offset) = count;
    return 0;
}

static int check_names(char **names, size_t count, char *problem, size_t problem_size)
{
    char buffer[CONFIG_QUOTE_MAX];
    for (size_t i = 0; i < count; i++) {
        if (!plugin_name_is_valid(names[i]) || config_is_reserved_name(names[i])) {
            snprintf(problem, problem_size,
                     "invalid plugin name in enable (found '%s', expected 1-32 characters a-z "
                     "0-9 _, not bot, lock, metrics, plugins or core)",
                     config_quote(names[i], buffer, sizeof buffer));
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                snprintf(problem, problem_size, "plugin '%s' is listed twice in enable", names[i]);
                return -1;
            }
        }
    }
    return 0;
}

static int set_name_list(struct config *config, const struct config_key *key, const char *text,
                         char *problem, size_t problem_size)
{
    size_t count = 0;
    char **names = split_list(text, &count);
    if (check_names(names, count, problem, problem_size) != 0) {
        free_list(names, count);
        return -1;
    }
    char ***field = field_of(config, key);
    size_t *field_count = (size_t *)((char *)config + key->count_offset);
    free_list(*field, *field_count);
    *field = names;
    *field_count = count;
    return 0;
}

int config_schema_set(struct config *config, const struct config_key *key, const char *text,
                      char *problem, size_t problem_size)
{
    if ((key->flags & CONFIG_NONEMPTY) && text[0] == '\0') {
        snprintf(problem, problem_size, "%s must not be empty", key->name);
        return -1;
    }
    if (key->flags & CONFIG_SECRET)
        log_add_secret(text);
    switch (key->type) {
        case CONFIG_TEXT:
        case CONFIG_PATH:
        case CONFIG_PATH_LIST: store_text(config, key, text); return 0;
        case CONFIG_URL: return set_url(config, key, text, problem, problem_size);
        case CONFIG_INTEGER: return set_integer(config, key, text, problem, problem_size);
        case CONFIG_NUMBER: return set_number(config, key, text, problem, problem_size);
        case CONFIG_BOOLEAN: return set_boolean(config, key, text, problem, problem_size);
        case CONFIG_CHOICE: return set_choice(config, key, text, problem, problem_size);
        case CONFIG_ID_LIST: return set_id_list(config, key, text, problem, problem_size);
        case CONFIG_NAME_LIST: return set_name_list(config, key, text, problem, problem_size);
    }
    snprintf(problem, problem_size, "%s: unknown type", key->name);
    return -1;
}

void config_schema_set_defaults(struct config *config)
{
    char problem[256];
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        if (config_schema_set(config, key, key->default_value, problem, sizeof problem) != 0) {
            /* a wrong default is a bug in the table above, caught by every test */
            fprintf(stderr, "jarvis: bad default of [%s] %s: %s\n", key->section, key->name,
                    problem);
            abort();
        }
    }
}

/* ---- describing values ---- */

static void format_list(const struct config *config, const struct config_key *key, char *out,
                        size_t size)
{
    size_t count = *(const size_t *)((const char *)config + key->count_offset);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen(out);
        const char *separator = i == 0 ? "" : ", ";
        if (key->type == CONFIG_ID_LIST)
            snprintf(out + used, size - used, "%s%lld", separator,
                     (long long)(*(int64_t *const *)const_field_of(config, key))[i]);
        else
            snprintf(out + used, size - used, "%s%s", separator,
                     (*(char **const *)const_field_of(config, key))[i]);
    }
}

void config_schema_format(const struct config *config, const struct config_key *key, char *out,
                          size_t size)
{
    const void *field = const_field_of(config, key);
    switch (key->type) {
        case CONFIG_TEXT:
        case CONFIG_PATH:
        case CONFIG_PATH_LIST:
        case CONFIG_URL: {
            const char *text = *(char *const *)field;
            if ((key->flags & CONFIG_SECRET) && text != NULL && text[0] != '\0')
                text = "***";
            snprintf(out, size, "%s", text != NULL ? text : "");
            return;
        }
        case CONFIG_INTEGER:
            if (key->size == sizeof(int))
                snprintf(out, size, "%d", *(const int *)field);
            else
                snprintf(out, size, "%lld", (long long)*(const int64_t *)field);
            return;
        case CONFIG_NUMBER: snprintf(out, size, "%g", *(const double *)field); return;
        case CONFIG_BOOLEAN:
            snprintf(out, size, "%s", *(const int *)field ? "true" : "false");
            return;
        case CONFIG_CHOICE: snprintf(out, size, "%s", key->choices[*(const int *)field]); return;
        case CONFIG_ID_LIST:
        case CONFIG_NAME_LIST: format_list(config, key, out, size); return;
    }
    snprintf(out, size, "?");
}

void config_schema_describe(const struct config_key *key, char *out, size_t size)
{
    char choices[128];
    switch (key->type) {
        case CONFIG_TEXT:
            snprintf(out, size, "%s", key->flags & CONFIG_SECRET ? "text, secret" : "text");
            return;
        case CONFIG_PATH:
            snprintf(out, size, "%s", key->flags & CONFIG_NONEMPTY ? "path, not empty" : "path");
            return;
        case CONFIG_PATH_LIST: snprintf(out, size, "directories separated by `:`"); return;
        case CONFIG_URL: snprintf(out, size, "`http://` or `https://` URL"); return;
        case CONFIG_INTEGER:
            if (key->maximum == INT_MAX)
                snprintf(out, size, "integer `>= %lld`", key->minimum);
            else
                snprintf(out, size, "integer `%lld..%lld`", key->minimum, key->maximum);
            return;
        case CONFIG_NUMBER:
            snprintf(out, size, "number above `0`, at most `%lld`", key->maximum);
            return;
        case CONFIG_BOOLEAN: snprintf(out, size, "boolean"); return;
        case CONFIG_CHOICE:
            join_choices(key->choices, choices, sizeof choices);
            snprintf(out, size, "one of %s", choices);
            return;
        case CONFIG_ID_LIST: snprintf(out, size, "list of positive integers"); return;
        case CONFIG_NAME_LIST: snprintf(out, size, "list of plugin names"); return;
    }
    snprintf(out, size, "?");
}

void config_schema_write_markdown(FILE *out)
{
    const char *section = NULL;
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        if (section == NULL || strcmp(section, key->section) != 0) {
            section = key->section;
            fprintf(out, "%s## [%s]\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
                    key == config_keys ? "" : "\n", section);
        }
        char type[160];
        config_schema_describe(key, type, sizeof type);
        const char *fallback = key->default_value;
        if (fallback[0] == '\0')
            fprintf(out, "| `%s` | %s | empty | %s |\n", key->name, type, key->meaning);
        else
            fprintf(out, "| `%s` | %s | `%s` | %s |\n", key->name, type, fallback, key->meaning);
    }
}

/* "core" is also the core's namespace in the store. */
int config_is_reserved_name(const char *name)
{
    return name != NULL && (config_schema_is_section(name) || strcmp(name, CORE_SPACE) == 0);
}

int config_parse_boolean(const char *text, int *result)
{
    static const char *const truths[] = {"true", "yes", "on", "1"};
    static const char *const falsehoods[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, truths[i]) == 0) {
            *result = 1;
            return 0;
        }
        if (strcasecmp(text, falsehoods[i]) == 0) {
            *result = 0;
            return 0;
        }
    }
    return -1;
}

int64_t config_shutdown_grace_ms(const struct config *config)
{
    if (config != NULL && config->shutdown_grace_ms > 0)
        return config->shutdown_grace_ms;
    const struct config_key *key = config_schema_find("bot", "shutdown_grace_ms");
    return key != NULL ? strtoll(key->default_value, NULL, 10) : 0;
}
