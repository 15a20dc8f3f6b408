/* plugins.ini loader: inih does the tokenising; this file counts lines in its
 * own reader (Debian's inih has no line numbers in the handler), checks the
 * schema, resolves env:VAR values and fills struct config with defaults. */
#include "config.h"

#include "log.h"
#include "plugin_record.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUOTED_VALUE_MAX 60
#define ERROR_TEXT_MAX 512

struct parse_state {
    struct config *config;
    const char *path;
    FILE *file;
    int line;             /* the reader's count = the line the handler sees */
    int line_indented;
    int stopped;          /* an error was recorded: feed inih no more lines */
    char **lines;         /* raw text, to quote a line inih rejected */
    size_t line_count;
    char *previous_key;   /* last key of the current section, to spot continuations */
    int transport_line;
    int error_line;       /* 0 = no error yet */
    char error[ERROR_TEXT_MAX];
};

static char *copy_text(const char *text)
{
    char *copy = strdup(text != NULL ? text : "");
    if (copy == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    return copy;
}

static void replace_text(char **field, const char *text)
{
    char *copy = copy_text(text);
    free(*field);
    *field = copy;
}

/* 'value' shortened for an error message. Secrets are masked before the
 * cut: the first 56 bytes of a longer env: secret would no longer match it,
 * and the later redaction of the whole message would let them through. */
static const char *quoted(const char *value, char *buffer, size_t size)
{
    size_t length = strlen(value);
    char masked[length + 1];
    memcpy(masked, value, length + 1);
    log_redact(masked, sizeof masked);
    if (strlen(masked) < size) {
        snprintf(buffer, size, "%s", masked);
    } else {
        snprintf(buffer, size, "%.*s...", (int)(size - 4), masked);
    }
    for (char *p = buffer; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    return buffer;
}

static void fail(struct parse_state *state, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only; later ones are usually consequences of it. */
static void fail(struct parse_state *state, int line, const char *format, ...)
{
    state->stopped = 1;
    if (state->error_line != 0)
        return;
    state->error_line = line;
    int length = snprintf(state->error, sizeof state->error, "%s:%d: ", state->path, line);
    if (length < 0 || (size_t)length >= sizeof state->error)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(state->error + length, sizeof state->error - (size_t)length, format, args);
    va_end(args);
}

static int is_reserved_section(const char *name)
{
    return strcmp(name, "bot") == 0 || strcmp(name, "lock") == 0 ||
           strcmp(name, "plugins") == 0;
}

/* "core" is also the core's namespace in the store. */
int config_is_reserved_name(const char *name)
{
    return name != NULL && (is_reserved_section(name) || strcmp(name, "core") == 0);
}

static char *skip_spaces(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    return text;
}

static void trim_line_end(char *text)
{
    size_t length = strlen(text);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r' ||
                          text[length - 1] == ' ' || text[length - 1] == '\t'))
        text[--length] = '\0';
}

static void remember_line(struct parse_state *state, const char *text)
{
    char **grown = realloc(state->lines, (state->line_count + 1) * sizeof *grown);
    if (grown == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    state->lines = grown;
    state->lines[state->line_count] = copy_text(text);
    trim_line_end(state->lines[state->line_count]);
    state->line_count++;
}

/* A section header is checked here, where its raw text is visible: inih only
 * shows sections through the keys inside them. */
static void check_section_header(struct parse_state *state, char *start)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    char *close = strchr(start, ']');
    if (close == NULL) {
        fail(state, state->line, "section header without closing ']' (found '%s')",
             quoted(start, buffer, sizeof buffer));
        return;
    }
    char *after = skip_spaces(close + 1);
    if (*after != '\0' && *after != ';' && *after != '#') {
        fail(state, state->line, "unexpected text after section header (found '%s')",
             quoted(after, buffer, sizeof buffer));
        return;
    }
    *close = '\0';
    const char *name = start + 1;
    if (!is_reserved_section(name) && !plugin_name_is_valid(name)) {
        fail(state, state->line,
             "invalid section name (found '%s', expected bot, lock, plugins or a plugin "
             "name of 1-32 characters a-z 0-9 _)",
             quoted(name, buffer, sizeof buffer));
        return;
    }
    free(state->previous_key);
    state->previous_key = NULL;
}

/* inih's own left trim (isspace: also \v, \f, \r), so a header behind one of
 * those is checked like any other instead of reaching inih unchecked. */
static char *skip_leading_whitespace(char *text)
{
    while (*text != '\0' && isspace((unsigned char)*text))
        text++;
    return text;
}

/* Looks at a line inih is about to parse: length limit, indentation, header. */
static void inspect_line(struct parse_state *state, const char *raw)
{
    char copy[strlen(raw) + 1];
    memcpy(copy, raw, sizeof copy);
    trim_line_end(copy);
    char *start = copy;
    if (state->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    char *content = skip_leading_whitespace(start);
    state->line_indented = content != start;
    if (*content == '[')
        check_section_header(state, content);
}

static void fail_too_long(struct parse_state *state, int size)
{
    fail(state, state->line,
         "line is too long (the limit is %d characters; longer lines would be cut off)",
         size - 3);
}

/* fgets, but counting what it read, so a NUL byte cannot hide the rest of a
 * line from inih. Returns the number of bytes read, 0 at the end of file. */
static size_t read_raw_line(FILE *file, char *buffer, int size, int *saw_nul)
{
    size_t length = 0;
    int c;
    *saw_nul = 0;
    while (length + 1 < (size_t)size && (c = getc(file)) != EOF) {
        buffer[length++] = (char)c;
        *saw_nul |= c == '\0';
        if (c == '\n')
            break;
    }
    buffer[length] = '\0';
    return length;
}

/* inih's reader: counts lines and refuses what inih would silently cut. */
static char *read_line(char *buffer, int size, void *stream)
{
    struct parse_state *state = stream;
    if (state->stopped || size < 4)
        return NULL;
    int saw_nul = 0;
    size_t length = read_raw_line(state->file, buffer, size, &saw_nul);
    if (length == 0)
        return NULL;
    state->line++;
    if (saw_nul) {
        fail(state, state->line, "line contains a NUL byte");
        return NULL;
    }
    if (buffer[length - 1] != '\n') {
        int next = getc(state->file);
        if (next != EOF) {
            fail_too_long(state, size);
            return NULL;
        }
    }
    remember_line(state, buffer);
    if (strlen(state->lines[state->line_count - 1]) > (size_t)size - 3) {
        fail_too_long(state, size);
        return NULL;
    }
    inspect_line(state, buffer);
    if (state->stopped)
        return NULL;
    return buffer;
}

static int parse_integer(const char *text, long long minimum, long long maximum,
                         long long *result)
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

static void set_integer(struct parse_state *state, const char *key, const char *value,
                        long long minimum, long long maximum, long long *result)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    if (parse_integer(value, minimum, maximum, result) != 0)
        fail(state, state->line, "%s must be an integer %lld..%lld (found '%s')", key, minimum,
             maximum, quoted(value, buffer, sizeof buffer));
}

static void set_boolean(struct parse_state *state, const char *key, const char *value,
                        int *result)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    if (config_parse_boolean(value, result) != 0)
        fail(state, state->line,
             "%s must be a boolean (found '%s', expected true/false/yes/no/on/off/1/0)", key,
             quoted(value, buffer, sizeof buffer));
}

/* Rates: a positive decimal up to maximum (strtod, so "0.5" and "30" both work). */
static void set_rate(struct parse_state *state, const char *key, const char *value,
                     double maximum, double *result)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    char *end = NULL;
    double number = strtod(value, &end);
    if (end == value || *end != '\0' || !(number > 0) || number > maximum) {
        fail(state, state->line, "%s must be a number above 0 and at most %g (found '%s')", key,
             maximum, quoted(value, buffer, sizeof buffer));
        return;
    }
    *result = number;
}

static void set_transport(struct parse_state *state, const char *value)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    struct config *config = state->config;
    state->transport_line = state->line;
    if (strcasecmp(value, "auto") == 0)
        config->transport = TRANSPORT_AUTO;
    else if (strcasecmp(value, "telegram") == 0)
        config->transport = TRANSPORT_TELEGRAM;
    else if (strcasecmp(value, "console") == 0)
        config->transport = TRANSPORT_CONSOLE;
    else
        fail(state, state->line, "unknown transport (found '%s', expected auto, telegram or console)",
             quoted(value, buffer, sizeof buffer));
}

static void set_log_level(struct parse_state *state, const char *value)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    int level = log_level_parse(value);
    if (level >= 0) {
        state->config->log_level = level;
        return;
    }
    fail(state, state->line, "unknown log_level (found '%s', expected error, warn, info or debug)",
         quoted(value, buffer, sizeof buffer));
}

static void set_api_base(struct parse_state *state, const char *value)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
        fail(state, state->line, "api_base must be an http:// or https:// URL (found '%s')",
             quoted(value, buffer, sizeof buffer));
        return;
    }
    replace_text(&state->config->api_base, value);
    /* "https://host/" and "https://host" must build the same request URLs */
    size_t length = strlen(state->config->api_base);
    while (length > 0 && state->config->api_base[length - 1] == '/')
        state->config->api_base[--length] = '\0';
}

static void set_nonempty_path(struct parse_state *state, const char *key, const char *value,
                              char **field)
{
    if (value[0] == '\0') {
        fail(state, state->line, "%s must not be empty", key);
        return;
    }
    replace_text(field, value);
}

/* Splits on commas and blanks; NULL-free list of the non-empty items. */
static char **split_list(const char *value, size_t *count)
{
    char *copy = copy_text(value);
    char **items = NULL;
    *count = 0;
    char *saveptr = NULL;
    for (char *item = strtok_r(copy, ", \t", &saveptr); item != NULL;
         item = strtok_r(NULL, ", \t", &saveptr)) {
        char **grown = realloc(items, (*count + 1) * sizeof *items);
        if (grown == NULL) {
            fprintf(stderr, "jarvis: out of memory\n");
            abort();
        }
        items = grown;
        items[(*count)++] = copy_text(item);
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

static void set_admins(struct parse_state *state, const char *value)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    size_t count = 0;
    char **items = split_list(value, &count);
    int64_t *admins = count > 0 ? calloc(count, sizeof *admins) : NULL;
    if (count > 0 && admins == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    for (size_t i = 0; i < count; i++) {
        long long id = 0;
        if (parse_integer(items[i], 1, LLONG_MAX, &id) != 0) {
            fail(state, state->line,
                 "admins must be a comma-separated list of Telegram user ids (found '%s', "
                 "expected a positive integer)",
                 quoted(items[i], buffer, sizeof buffer));
            free(admins);
            free_list(items, count);
            return;
        }
        admins[i] = id;
    }
    free_list(items, count);
    free(state->config->admins);
    state->config->admins = admins;
    state->config->admin_count = count;
}

static int check_enable_names(struct parse_state *state, char **names, size_t count)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    for (size_t i = 0; i < count; i++) {
        if (!plugin_name_is_valid(names[i]) || config_is_reserved_name(names[i])) {
            fail(state, state->line,
                 "invalid plugin name in enable (found '%s', expected 1-32 characters a-z 0-9 _, "
                 "not bot, lock, plugins or core)",
                 quoted(names[i], buffer, sizeof buffer));
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                fail(state, state->line, "plugin '%s' is listed twice in enable", names[i]);
                return -1;
            }
        }
    }
    return 0;
}

static void set_enable(struct parse_state *state, const char *value)
{
    size_t count = 0;
    char **names = split_list(value, &count);
    if (check_enable_names(state, names, count) != 0) {
        free_list(names, count);
        return;
    }
    free_list(state->config->enable, state->config->enable_count);
    state->config->enable = names;
    state->config->enable_count = count;
}

static void set_bot_key(struct parse_state *state, const char *key, const char *value)
{
    struct config *config = state->config;
    long long number = 0;
    if (strcmp(key, "token") == 0) {
        replace_text(&config->token, value);
        log_add_secret(value);
    } else if (strcmp(key, "api_base") == 0) {
        set_api_base(state, value);
    } else if (strcmp(key, "transport") == 0) {
        set_transport(state, value);
    } else if (strcmp(key, "poll_timeout") == 0) {
        set_integer(state, key, value, 0, 600, &number);
        config->poll_timeout = (int)number;
    } else if (strcmp(key, "workers") == 0) {
        set_integer(state, key, value, 1, 64, &number);
        config->workers = (int)number;
    } else if (strcmp(key, "state_dir") == 0) {
        set_nonempty_path(state, key, value, &config->state_dir);
    } else if (strcmp(key, "log_file") == 0) {
        replace_text(&config->log_file, value);
    } else if (strcmp(key, "log_level") == 0) {
        set_log_level(state, value);
    } else if (strcmp(key, "admins") == 0) {
        set_admins(state, value);
    } else if (strcmp(key, "handler_budget_ms") == 0) {
        set_integer(state, key, value, 1, 86400000, &number);
        config->handler_budget_ms = number;
    } else if (strcmp(key, "shutdown_grace_ms") == 0) {
        set_integer(state, key, value, 1, 3600000, &number);
        config->shutdown_grace_ms = number;
    } else if (strcmp(key, "delete_webhook") == 0) {
        set_boolean(state, key, value, &config->delete_webhook);
    } else if (strcmp(key, "reply_quotes") == 0) {
        set_boolean(state, key, value, &config->reply_quotes);
    } else if (strcmp(key, "handle_edited_messages") == 0) {
        set_boolean(state, key, value, &config->handle_edited_messages);
    } else if (strcmp(key, "backoff_initial_ms") == 0) {
        set_integer(state, key, value, 1, 3600000, &number);
        config->backoff_initial_ms = number;
    } else if (strcmp(key, "backoff_max_ms") == 0) {
        set_integer(state, key, value, 1, 3600000, &number);
        config->backoff_max_ms = number;
    } else if (strcmp(key, "send_rate_per_chat") == 0) {
        set_rate(state, key, value, 1e6, &config->send_rate_per_chat);
    } else if (strcmp(key, "send_burst_per_chat") == 0) {
        set_rate(state, key, value, 1e6, &config->send_burst_per_chat);
    } else if (strcmp(key, "send_rate_total") == 0) {
        set_rate(state, key, value, 1e6, &config->send_rate_total);
    } else {
        log_warn("%s:%d: unknown key '%s' in [bot], ignored", state->path, state->line, key);
    }
}

static void set_lock_key(struct parse_state *state, const char *key, const char *value)
{
    long long number = 0;
    if (strcmp(key, "path") == 0) {
        replace_text(&state->config->lock_path, value);
    } else if (strcmp(key, "max_wait") == 0) {
        set_integer(state, key, value, 0, INT_MAX, &number);
        state->config->lock_max_wait = (int)number;
    } else {
        log_warn("%s:%d: unknown key '%s' in [lock], ignored", state->path, state->line, key);
    }
}

static void set_plugins_key(struct parse_state *state, const char *key, const char *value)
{
    if (strcmp(key, "dir") == 0)
        set_nonempty_path(state, key, value, &state->config->plugin_dir);
    else if (strcmp(key, "enable") == 0)
        set_enable(state, value);
    else
        log_warn("%s:%d: unknown key '%s' in [plugins], ignored", state->path, state->line, key);
}

static struct config_entry *find_entry(const struct config *config, const char *section,
                                       const char *key)
{
    if (config == NULL || section == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < config->entry_count; i++) {
        struct config_entry *entry = &config->entries[i];
        if (strcmp(entry->section, section) == 0 && strcmp(entry->key, key) == 0)
            return entry;
    }
    return NULL;
}

static void add_plugin_entry(struct parse_state *state, const char *section, const char *key,
                             const char *value)
{
    struct config *config = state->config;
    struct config_entry *existing = find_entry(config, section, key);
    if (existing != NULL) {
        log_warn("%s:%d: [%s] %s is set again (first at line %d); the later value wins",
                 state->path, state->line, section, key, existing->line);
        replace_text(&existing->value, value);
        existing->line = state->line;
        return;
    }
    struct config_entry *grown =
        realloc(config->entries, (config->entry_count + 1) * sizeof *grown);
    if (grown == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    config->entries = grown;
    struct config_entry *entry = &config->entries[config->entry_count++];
    entry->section = copy_text(section);
    entry->key = copy_text(key);
    entry->value = copy_text(value);
    entry->line = state->line;
}

static int is_valid_env_name(const char *name)
{
    if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

/* env:VAR -> the variable's value (registered as a secret), or "" when unset.
 * NULL after recording an error. Never logs the value. */
static const char *resolve_value(struct parse_state *state, const char *section,
                                 const char *key, const char *value)
{
    if (strncmp(value, "env:", 4) != 0)
        return value;
    const char *name = value + 4;
    char buffer[QUOTED_VALUE_MAX + 4];
    char key_buffer[QUOTED_VALUE_MAX + 4];
    if (!is_valid_env_name(name)) {
        fail(state, state->line,
             "[%s] %s: invalid environment variable name (found '%s', expected env:NAME with "
             "letters, digits, _)",
             section, quoted(key, key_buffer, sizeof key_buffer),
             quoted(name, buffer, sizeof buffer));
        return NULL;
    }
    const char *resolved = getenv(name);
    if (resolved == NULL) {
        log_info("%s:%d: [%s] %s: environment variable %s is not set; using an empty value",
                 state->path, state->line, section, key, name);
        return "";
    }
    log_add_secret(resolved);
    return resolved;
}

static int is_continuation(const struct parse_state *state, const char *key)
{
    return state->line_indented && state->previous_key != NULL &&
           strcmp(state->previous_key, key) == 0;
}

static int handle_entry(void *user, const char *section, const char *key, const char *value)
{
    struct parse_state *state = user;
    char buffer[QUOTED_VALUE_MAX + 4];
    if (state->stopped)
        return 0;
    if (value == NULL) /* only if a build of inih allows keys without '=' */
        value = "";
    if (is_continuation(state, key)) {
        fail(state, state->line,
             "indented line would continue the value of '%s' (multi-line values are not "
             "supported; remove the indentation)",
             quoted(key, buffer, sizeof buffer));
        return 0;
    }
    replace_text(&state->previous_key, key);
    if (section[0] == '\0') {
        fail(state, state->line, "key '%s' is outside any section (expected a [section] first)",
             quoted(key, buffer, sizeof buffer));
        return 0;
    }
    const char *resolved = resolve_value(state, section, key, value);
    if (resolved == NULL)
        return 0;
    if (strcmp(section, "bot") == 0)
        set_bot_key(state, key, resolved);
    else if (strcmp(section, "lock") == 0)
        set_lock_key(state, key, resolved);
    else if (strcmp(section, "plugins") == 0)
        set_plugins_key(state, key, resolved);
    else
        add_plugin_entry(state, section, key, resolved);
    return state->stopped ? 0 : 1;
}

static void set_defaults(struct config *config, const char *path)
{
    memset(config, 0, sizeof *config);
    config->path = copy_text(path);
    config->token = copy_text("");
    config->api_base = copy_text("https://api.telegram.org");
    config->transport = TRANSPORT_AUTO;
    config->poll_timeout = 50;
    config->workers = 4;
    config->state_dir = copy_text("state");
    config->log_file = copy_text("");
    config->log_level = LOG_INFO;
    config->handler_budget_ms = 10000;
    config->shutdown_grace_ms = 10000;
    config->delete_webhook = 0;
    config->reply_quotes = 1;
    config->handle_edited_messages = 0;
    config->backoff_initial_ms = 1000;
    config->backoff_max_ms = 60000;
    config->send_rate_per_chat = 1.0;
    config->send_burst_per_chat = 3.0;
    config->send_rate_total = 30.0;
    config->lock_path = copy_text("");
    config->lock_max_wait = 30;
    config->plugin_dir = copy_text("plugins");
}

static void report_syntax_error(struct parse_state *state, int line)
{
    char buffer[QUOTED_VALUE_MAX + 4];
    const char *text = "";
    if (line >= 1 && (size_t)line <= state->line_count)
        text = skip_spaces(state->lines[line - 1]);
    state->error_line = 0;
    fail(state, line, "expected 'key = value' or '[section]' (found '%s')",
         quoted(text, buffer, sizeof buffer));
}

static void check_after_parse(struct parse_state *state)
{
    struct config *config = state->config;
    if (config->transport == TRANSPORT_TELEGRAM && config->token[0] == '\0')
        fail(state, state->transport_line,
             "transport = telegram needs a token (found an empty [bot] token, expected "
             "token = env:TELEGRAM_BOT_TOKEN with the variable set)");
}

static void free_parse_state(struct parse_state *state)
{
    for (size_t i = 0; i < state->line_count; i++)
        free(state->lines[i]);
    free(state->lines);
    free(state->previous_key);
}

static void copy_error(char *error, size_t error_size, const char *text)
{
    if (error == NULL || error_size == 0)
        return;
    snprintf(error, error_size, "%s", text);
    log_redact(error, error_size);
}

int config_load(const char *path, struct config *config, char *error, size_t error_size)
{
    char message[ERROR_TEXT_MAX + 64];
    if (path == NULL || config == NULL) {
        copy_error(error, error_size, "config_load: no path or config given");
        return -1;
    }
    set_defaults(config, path);
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        snprintf(message, sizeof message, "%s: cannot open: %s", path, strerror(errno));
        copy_error(error, error_size, message);
        config_free(config);
        return -1;
    }
    struct parse_state state = {.config = config, .path = path, .file = file};
    int parse_result = ini_parse_stream(read_line, &state, handle_entry, &state);
    int read_failed = ferror(file);
    int read_errno = errno;
    fclose(file);

    if (read_failed && state.error_line == 0) {
        snprintf(state.error, sizeof state.error, "%s: cannot read: %s", path,
                 strerror(read_errno));
        state.error_line = -1;
    } else if (parse_result == -2 && state.error_line == 0) {
        snprintf(state.error, sizeof state.error, "%s: out of memory while parsing", path);
        state.error_line = -1;
    } else if (parse_result > 0 && (state.error_line == 0 || parse_result < state.error_line)) {
        report_syntax_error(&state, parse_result);
    }
    if (state.error_line == 0)
        check_after_parse(&state);
    free_parse_state(&state);
    if (state.error_line != 0) {
        copy_error(error, error_size, state.error);
        config_free(config);
        return -1;
    }
    if (error != NULL && error_size > 0)
        error[0] = '\0';
    return 0;
}

void config_free(struct config *config)
{
    if (config == NULL)
        return;
    free(config->path);
    free(config->token);
    free(config->api_base);
    free(config->state_dir);
    free(config->log_file);
    free(config->admins);
    free(config->lock_path);
    free(config->plugin_dir);
    free_list(config->enable, config->enable_count);
    for (size_t i = 0; i < config->entry_count; i++) {
        free(config->entries[i].section);
        free(config->entries[i].key);
        free(config->entries[i].value);
    }
    free(config->entries);
    memset(config, 0, sizeof *config);
}

const char *config_lookup(const struct config *config, const char *section, const char *key)
{
    const struct config_entry *entry = find_entry(config, section, key);
    return entry != NULL ? entry->value : NULL;
}

int config_lookup_line(const struct config *config, const char *section, const char *key)
{
    const struct config_entry *entry = find_entry(config, section, key);
    return entry != NULL ? entry->line : 0;
}

int config_is_admin(const struct config *config, int64_t user_id)
{
    if (config == NULL)
        return 0;
    for (size_t i = 0; i < config->admin_count; i++) {
        if (config->admins[i] == user_id)
            return 1;
    }
    return 0;
}
