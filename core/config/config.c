/* plugins.ini loader: inih does the tokenising; this file counts lines in its
 * own reader (Debian's inih has no line numbers in the handler), collects
 * every error instead of stopping at the first, resolves env:VAR values and
 * hands [bot], [lock] and [plugins] keys to the schema (config_schema.c). */
#include "config/config.h"

#include "config/config_schema.h"
#include "config/config_webhook.h"
#include "base/listen_address.h"
#include "base/log.h"
#include "base/plugin_name.h"
#include "config/config_paths.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERROR_TEXT_MAX 512
#define KEY_LINES_MAX 128 /* above the number of rows of config_keys */

struct section_seen {
    char *name;
    int line;
};

struct parse_state {
    struct config *config;
    const char *path;
    FILE *file;
    int line; /* the reader's count = the line the handler sees */
    int line_indented;
    int skip_section; /* the current header was refused: its keys are not checked */
    int read_failed;
    char **lines; /* raw text, to quote a line inih rejected */
    size_t line_count;
    char *previous_key; /* last key of the current section, to spot continuations */
    int transport_line;
    int backoff_line; /* the last backoff_*_ms key, for the max < initial error */
    int metrics_listen_line;
    int key_lines[KEY_LINES_MAX]; /* by index in config_keys: the line it was set on */
    int backend_line;
    struct section_seen *sections; /* plugin sections, for the unused-section warning */
    size_t section_count;
    char **errors; /* "PATH:LINE: what", the first CONFIG_ERROR_LIMIT */
    int *error_lines;
    size_t error_count; /* all of them, also those past the limit */
};

static void *grow(void *items, size_t count, size_t item_size)
{
    void *grown = realloc(items, (count + 1) * item_size);
    if (grown == NULL) {
        fprintf(stderr, "jarvis: out of memory\n");
        abort();
    }
    return grown;
}

static void replace_text(char **field, const char *text)
{
    char *copy = config_copy_text(text);
    free(*field);
    *field = copy;
}

static int has_error_at(const struct parse_state *state, int line)
{
    size_t kept = state->error_count < CONFIG_ERROR_LIMIT ? state->error_count : CONFIG_ERROR_LIMIT;
    for (size_t i = 0; i < kept; i++) {
        if (state->error_lines[i] == line)
            return 1;
    }
    return 0;
}

static void fail(struct parse_state *state, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Every error is kept (up to the limit): a user fixing a file wants the whole
 * list at once, not one round trip per mistake. */
static void fail(struct parse_state *state, int line, const char *format, ...)
{
    state->error_count++;
    if (state->error_count > CONFIG_ERROR_LIMIT)
        return;
    char text[ERROR_TEXT_MAX];
    int length = line > 0 ? snprintf(text, sizeof text, "%s:%d: ", state->path, line)
                          : snprintf(text, sizeof text, "%s: ", state->path);
    if (length < 0 || (size_t)length >= sizeof text)
        length = 0;
    va_list args;
    va_start(args, format);
    vsnprintf(text + length, sizeof text - (size_t)length, format, args);
    va_end(args);
    size_t index = state->error_count - 1;
    state->errors = grow(state->errors, index, sizeof *state->errors);
    state->error_lines = grow(state->error_lines, index, sizeof *state->error_lines);
    state->errors[index] = config_copy_text(text);
    state->error_lines[index] = line;
}

static int is_reserved_section(const char *name)
{
    return config_schema_is_section(name);
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
    state->lines = grow(state->lines, state->line_count, sizeof *state->lines);
    state->lines[state->line_count] = config_copy_text(text);
    trim_line_end(state->lines[state->line_count]);
    state->line_count++;
}

static void remember_section(struct parse_state *state, const char *name)
{
    state->sections = grow(state->sections, state->section_count, sizeof *state->sections);
    state->sections[state->section_count].name = config_copy_text(name);
    state->sections[state->section_count].line = state->line;
    state->section_count++;
}

/* A section header is checked here, where its raw text is visible: inih only
 * shows sections through the keys inside them. Returns -1 when refused. */
static int check_section_header(struct parse_state *state, char *start)
{
    char buffer[CONFIG_QUOTE_MAX];
    char *close = strchr(start, ']');
    if (close == NULL) {
        fail(state, state->line, "section header without closing ']' (found '%s')",
             config_quote(start, buffer, sizeof buffer));
        return -1;
    }
    char *after = skip_spaces(close + 1);
    if (*after != '\0' && *after != ';' && *after != '#') {
        fail(state, state->line, "unexpected text after section header (found '%s')",
             config_quote(after, buffer, sizeof buffer));
        return -1;
    }
    *close = '\0';
    const char *name = start + 1;
    if (!is_reserved_section(name) && !plugin_name_is_valid(name)) {
        fail(state, state->line,
             "invalid section name (found '%s', expected bot, lock, metrics, webhook, plugins or "
             "a plugin name of 1-32 characters a-z 0-9 _)",
             config_quote(name, buffer, sizeof buffer));
        return -1;
    }
    if (!is_reserved_section(name))
        remember_section(state, name);
    free(state->previous_key);
    state->previous_key = NULL;
    return 0;
}

/* inih's own left trim (isspace: also \v, \f, \r), so a header behind one of
 * those is checked like any other instead of reaching inih unchecked. */
static char *skip_leading_whitespace(char *text)
{
    while (*text != '\0' && isspace((unsigned char)*text))
        text++;
    return text;
}

/* What inih would call a syntax error: neither empty, a comment, a header
 * nor "key = value" / "key: value". */
static int is_malformed(const char *content)
{
    if (*content == '\0' || *content == ';' || *content == '#' || *content == '[')
        return 0;
    return strpbrk(content, "=:") == NULL;
}

/* Looks at a line inih is about to parse. Returns -1 when the line was
 * refused: inih then gets an empty line, so parsing goes on. */
static int inspect_line(struct parse_state *state, const char *raw)
{
    char copy[strlen(raw) + 1];
    memcpy(copy, raw, sizeof copy);
    trim_line_end(copy);
    char *start = copy;
    if (state->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    char *content = skip_leading_whitespace(start);
    state->line_indented = content != start;
    if (*content == '[') {
        int result = check_section_header(state, content);
        state->skip_section = result != 0;
        return result;
    }
    /* an indented line after a key is inih's continuation: handle_entry reports it */
    int continuation = state->line_indented && state->previous_key != NULL;
    if (!continuation && is_malformed(content)) {
        char buffer[CONFIG_QUOTE_MAX];
        fail(state, state->line, "expected 'key = value' or '[section]' (found '%s')",
             config_quote(content, buffer, sizeof buffer));
        return -1;
    }
    return 0;
}

static void fail_too_long(struct parse_state *state, int size)
{
    fail(state, state->line,
         "line is too long (the limit is %d characters; longer lines would be cut off)", size - 3);
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

static void skip_rest_of_line(FILE *file)
{
    int c;
    while ((c = getc(file)) != EOF && c != '\n')
        ;
}

/* A refused line reaches inih as an empty one: the line count stays right
 * and later lines are still checked. */
static char *refused_line(char *buffer)
{
    buffer[0] = '\n';
    buffer[1] = '\0';
    return buffer;
}

/* inih's reader: counts lines and refuses what inih would silently cut. */
static char *read_line(char *buffer, int size, void *stream)
{
    struct parse_state *state = stream;
    if (state->read_failed || size < 4)
        return NULL;
    int saw_nul = 0;
    size_t length = read_raw_line(state->file, buffer, size, &saw_nul);
    if (length == 0) {
        state->read_failed = ferror(state->file);
        return NULL;
    }
    state->line++;
    int too_long = 0;
    if (buffer[length - 1] != '\n') {
        int next = getc(state->file);
        if (next != EOF && next != '\n') {
            too_long = 1;
            skip_rest_of_line(state->file);
        }
    }
    remember_line(state, saw_nul ? "" : buffer);
    if (saw_nul) {
        fail(state, state->line, "line contains a NUL byte");
        return refused_line(buffer);
    }
    if (too_long || strlen(state->lines[state->line_count - 1]) > (size_t)size - 3) {
        fail_too_long(state, size);
        return refused_line(buffer);
    }
    if (inspect_line(state, buffer) != 0)
        return refused_line(buffer);
    return buffer;
}

static void set_core_key(struct parse_state *state, const char *section, const char *name,
                         const char *value)
{
    const struct config_key *key = config_schema_find(section, name);
    if (key == NULL) {
        const char *suggestion = config_schema_suggest(section, name);
        char buffer[CONFIG_QUOTE_MAX];
        if (suggestion != NULL)
            log_warn("%s:%d: unknown key '%s' in [%s], ignored (did you mean '%s'?)", state->path,
                     state->line, config_quote(name, buffer, sizeof buffer), section, suggestion);
        else
            log_warn("%s:%d: unknown key '%s' in [%s], ignored", state->path, state->line,
                     config_quote(name, buffer, sizeof buffer), section);
        return;
    }
    if (strcmp(section, "bot") == 0 && strcmp(name, "transport") == 0)
        state->transport_line = state->line;
    if (strcmp(section, "bot") == 0 && strncmp(name, "backoff_", 8) == 0)
        state->backoff_line = state->line;
    if (strcmp(section, "metrics") == 0 && strcmp(name, "listen") == 0)
        state->metrics_listen_line = state->line;
    if (key - config_keys < KEY_LINES_MAX)
        state->key_lines[key - config_keys] = state->line;
    if (strcmp(section, "state") == 0 && strcmp(name, "backend") == 0)
        state->backend_line = state->line;
    char problem[ERROR_TEXT_MAX];
    if (config_schema_set(state->config, key, value, problem, sizeof problem) != 0)
        fail(state, state->line, "%s", problem);
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
    config->entries = grow(config->entries, config->entry_count, sizeof *config->entries);
    struct config_entry *entry = &config->entries[config->entry_count++];
    entry->section = config_copy_text(section);
    entry->key = config_copy_text(key);
    entry->value = config_copy_text(value);
    entry->line = state->line;
}

static int is_valid_env_name(const char *name)
{
    if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    }
    return 1;
}

/* env:VAR -> the variable's value (registered as a secret), or "" when unset.
 * NULL after recording an error. Never logs the value. */
static const char *resolve_value(struct parse_state *state, const char *section, const char *key,
                                 const char *value)
{
    if (strncmp(value, "env:", 4) != 0)
        return value;
    const char *name = value + 4;
    char buffer[CONFIG_QUOTE_MAX];
    char key_buffer[CONFIG_QUOTE_MAX];
    if (!is_valid_env_name(name)) {
        fail(state, state->line,
             "[%s] %s: invalid environment variable name (found '%s', expected env:NAME with "
             "letters, digits, _)",
             section, config_quote(key, key_buffer, sizeof key_buffer),
             config_quote(name, buffer, sizeof buffer));
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
    char buffer[CONFIG_QUOTE_MAX];
    if (state->skip_section)
        return 1;
    if (value == NULL) /* only if a build of inih allows keys without '=' */
        value = "";
    if (is_continuation(state, key)) {
        fail(state, state->line,
             "indented line would continue the value of '%s' (multi-line values are not "
             "supported; remove the indentation)",
             config_quote(key, buffer, sizeof buffer));
        return 1;
    }
    replace_text(&state->previous_key, key);
    if (section[0] == '\0') {
        fail(state, state->line, "key '%s' is outside any section (expected a [section] first)",
             config_quote(key, buffer, sizeof buffer));
        return 1;
    }
    const char *resolved = resolve_value(state, section, key, value);
    if (resolved == NULL)
        return 1;
    if (is_reserved_section(section))
        set_core_key(state, section, key, resolved);
    else
        add_plugin_entry(state, section, key, resolved);
    return 1;
}

static void report_syntax_error(struct parse_state *state, int line)
{
    char buffer[CONFIG_QUOTE_MAX];
    const char *text = "";
    if (line >= 1 && (size_t)line <= state->line_count)
        text = skip_spaces(state->lines[line - 1]);
    fail(state, line, "expected 'key = value' or '[section]' (found '%s')",
         config_quote(text, buffer, sizeof buffer));
}

/* The loopback rule needs allow_remote, which may come later in the
 * section, so it is checked once the whole file is read. */
static void check_metrics_listen(struct parse_state *state)
{
    struct config *config = state->config;
    struct listen_address address;
    char problem[128];
    if (config->metrics_listen == NULL || config->metrics_listen[0] == '\0')
        return;
    if (listen_address_parse(config->metrics_listen, &address, problem, sizeof problem) != 0) {
        fail(state, state->metrics_listen_line, "[metrics] listen: %s (found '%s')", problem,
             config->metrics_listen);
        return;
    }
    if (address.loopback || config->metrics_allow_remote)
        return;
    fail(state, state->metrics_listen_line,
         "[metrics] listen %s is not a loopback address (metrics would be served beyond this "
         "machine); use 127.0.0.1:PORT, or set allow_remote = true in [metrics]",
         config->metrics_listen);
}

static void report_core_problem(void *context, const char *section, const char *name,
                                const char *problem)
{
    struct parse_state *state = context;
    const struct config_key *key = config_schema_find(section, name);
    int line =
        key != NULL && key - config_keys < KEY_LINES_MAX ? state->key_lines[key - config_keys] : 0;
    fail(state, line, "%s", problem);
}

static void check_after_parse(struct parse_state *state)
{
    struct config *config = state->config;
    if (config->transport == TRANSPORT_TELEGRAM && config->token[0] == '\0')
        fail(state, state->transport_line,
             "transport = telegram needs a token (found an empty [bot] token, expected "
             "token = env:TELEGRAM_BOT_TOKEN with the variable set)");
    check_metrics_listen(state);
    config_webhook_check(config, report_core_problem, state);
    if (config->state_backend == STATE_BACKEND_POSTGRES && config->state_dsn[0] == '\0')
        fail(state, state->backend_line,
             "backend = postgres needs a dsn (found an empty [state] dsn, expected "
             "dsn = env:JARVIS_PG_DSN with the variable set)");
    if (config->backoff_max_ms < config->backoff_initial_ms)
        fail(state, state->backoff_line,
             "backoff_max_ms (%lld) must not be below backoff_initial_ms (%lld)",
             (long long)config->backoff_max_ms, (long long)config->backoff_initial_ms);
}

static int is_enabled(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->enable_count; i++) {
        if (strcmp(config->enable[i], name) == 0)
            return 1;
    }
    return 0;
}

/* A typo in a section name, or a plugin left out of enable (the README's
 * old `enable = hello, weather` trap), would otherwise be silently unused. */
static void warn_unused_sections(const struct parse_state *state)
{
    for (size_t i = 0; i < state->section_count; i++) {
        const struct section_seen *section = &state->sections[i];
        if (is_enabled(state->config, section->name))
            continue;
        int repeated = 0;
        for (size_t j = 0; j < i; j++)
            repeated |= strcmp(state->sections[j].name, section->name) == 0;
        if (!repeated)
            log_warn("%s:%d: section [%s] matches no enabled plugin (not in [plugins] enable); "
                     "its settings are unused",
                     state->path, section->line, section->name);
    }
}

static void free_parse_state(struct parse_state *state)
{
    for (size_t i = 0; i < state->line_count; i++)
        free(state->lines[i]);
    free(state->lines);
    free(state->previous_key);
    for (size_t i = 0; i < state->section_count; i++)
        free(state->sections[i].name);
    free(state->sections);
    size_t kept = state->error_count < CONFIG_ERROR_LIMIT ? state->error_count : CONFIG_ERROR_LIMIT;
    for (size_t i = 0; i < kept; i++)
        free(state->errors[i]);
    free(state->errors);
    free(state->error_lines);
}

/* Whole lines only, as many as fit: a cut line could split a masked secret. */
static void append_error_line(char *error, size_t error_size, const char *line)
{
    size_t used = strlen(error);
    size_t needed = strlen(line) + (used > 0 ? 1 : 0);
    if (used + needed + 1 > error_size)
        return;
    snprintf(error + used, error_size - used, "%s%s", used > 0 ? "\n" : "", line);
}

static void copy_errors(const struct parse_state *state, char *error, size_t error_size)
{
    if (error == NULL || error_size == 0)
        return;
    error[0] = '\0';
    size_t kept = state->error_count < CONFIG_ERROR_LIMIT ? state->error_count : CONFIG_ERROR_LIMIT;
    for (size_t i = 0; i < kept; i++) {
        char line[ERROR_TEXT_MAX];
        snprintf(line, sizeof line, "%s", state->errors[i]);
        log_redact(line, sizeof line);
        append_error_line(error, error_size, line);
    }
    if (state->error_count > kept) {
        char line[ERROR_TEXT_MAX];
        snprintf(line, sizeof line, "%s: %zu more error(s) not shown", state->path,
                 state->error_count - kept);
        append_error_line(error, error_size, line);
    }
    if (error[0] == '\0' && state->error_count > 0) /* the first line alone is too long */
        snprintf(error, error_size, "%s", state->errors[0]);
    log_redact(error, error_size);
}

static void copy_error(char *error, size_t error_size, const char *text)
{
    if (error == NULL || error_size == 0)
        return;
    snprintf(error, error_size, "%s", text);
    log_redact(error, error_size);
}

/* What ini_parse_stream returns when a malloc failed (inih's ini.h). */
enum { INIH_OUT_OF_MEMORY = -2 };

static void parse_file(struct parse_state *state)
{
    int parse_result = ini_parse_stream(read_line, state, handle_entry, state);
    if (state->read_failed)
        fail(state, 0, "cannot read: %s", strerror(errno));
    else if (parse_result == INIH_OUT_OF_MEMORY)
        fail(state, 0, "out of memory while parsing");
    else if (parse_result > 0 && !has_error_at(state, parse_result))
        report_syntax_error(state, parse_result);
    check_after_parse(state);
}

int config_load(const char *path, struct config *config, char *error, size_t error_size)
{
    char message[ERROR_TEXT_MAX + 64];
    if (path == NULL || config == NULL) {
        copy_error(error, error_size, "config_load: no path or config given");
        return -1;
    }
    memset(config, 0, sizeof *config);
    config->path = config_copy_text(path);
    config_schema_set_defaults(config);
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        snprintf(message, sizeof message, "%s: cannot open: %s", path, strerror(errno));
        copy_error(error, error_size, message);
        config_free(config);
        return -1;
    }
    struct parse_state state = {.config = config, .path = path, .file = file};
    parse_file(&state);
    fclose(file);
    if (state.error_count == 0 && config_resolve_paths(config, message, sizeof message) != 0)
        fail(&state, 0, "%s", message);
    if (state.error_count > 0) {
        copy_errors(&state, error, error_size);
        free_parse_state(&state);
        config_free(config);
        return -1;
    }
    warn_unused_sections(&state);
    free_parse_state(&state);
    if (error != NULL && error_size > 0)
        error[0] = '\0';
    return 0;
}

void config_free(struct config *config)
{
    if (config == NULL)
        return;
    free(config->path);
    free(config->directory);
    free(config->token);
    free(config->api_base);
    free(config->state_dir);
    free(config->log_file);
    free(config->admins);
    free(config->lock_path);
    free(config->plugin_dir);
    free(config->metrics_listen);
    free(config->webhook_listen);
    free(config->webhook_url);
    free(config->webhook_path);
    free(config->webhook_secret);
    free(config->state_dsn);
    for (size_t i = 0; i < config->enable_count; i++)
        free(config->enable[i]);
    free(config->enable);
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
