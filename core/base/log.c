/* Logging sink: one timestamped, levelled line per call (text, or a JSON
 * object), written with a single write(2) under a mutex, after masking
 * registered secrets and anything shaped like a Telegram bot token. */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096
#define FIELD_TEXT_MAX 1024
#define SECRET_MIN_LENGTH 4
#define TOKEN_MIN_ID_DIGITS 5
#define TOKEN_MIN_SECRET_CHARS 30
static const char MASK[] = "***";
static const char TRUNCATION_MARK[] = "...";

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr */
static char *log_path;
static enum log_level log_threshold = LOG_INFO;
/* Kept sorted longest first, so a secret that contains another is masked whole. */
static char **secrets;
static size_t secret_count;
static enum log_format log_output_format = LOG_FORMAT_TEXT;
static struct log_problem recent_problems[LOG_RECENT_PROBLEMS];
static size_t recent_problem_count;

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

int log_open(const char *path, enum log_level level)
{
    int fd = -1;
    char *path_copy = NULL;
    if (path != NULL && path[0] != '\0') {
        fd = open_log_file(path);
        if (fd < 0)
            return -1;
        path_copy = strdup(path);
        if (path_copy == NULL) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
    }
    pthread_mutex_lock(&log_mutex);
    if (log_fd >= 0)
        close(log_fd);
    free(log_path);
    log_fd = fd;
    log_path = path_copy;
    log_threshold = level;
    pthread_mutex_unlock(&log_mutex);
    return 0;
}

int log_reopen(void)
{
    pthread_mutex_lock(&log_mutex);
    int result = 0;
    if (log_path != NULL) {
        int fd = open_log_file(log_path);
        if (fd < 0) {
            result = -1; /* keep writing to the old file rather than losing lines */
        } else {
            close(log_fd);
            log_fd = fd;
        }
    }
    int saved_errno = errno;
    pthread_mutex_unlock(&log_mutex);
    errno = saved_errno;
    return result;
}

void log_close(void)
{
    pthread_mutex_lock(&log_mutex);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    free(log_path);
    log_path = NULL;
    pthread_mutex_unlock(&log_mutex);
}

void log_set_level(enum log_level level)
{
    pthread_mutex_lock(&log_mutex);
    log_threshold = level;
    pthread_mutex_unlock(&log_mutex);
}

int log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (name == NULL)
        return -1;
    for (int level = 0; level < 4; level++) {
        if (strcasecmp(name, names[level]) == 0)
            return level;
    }
    return -1;
}

void log_add_secret(const char *secret)
{
    if (secret == NULL || strlen(secret) < SECRET_MIN_LENGTH)
        return;
    pthread_mutex_lock(&log_mutex);
    for (size_t i = 0; i < secret_count; i++) {
        if (strcmp(secrets[i], secret) == 0) {
            pthread_mutex_unlock(&log_mutex);
            return;
        }
    }
    char *copy = strdup(secret);
    char **grown = realloc(secrets, (secret_count + 1) * sizeof *secrets);
    if (copy == NULL || grown == NULL) {
        free(copy);
        if (grown != NULL)
            secrets = grown;
        pthread_mutex_unlock(&log_mutex);
        return;
    }
    secrets = grown;
    size_t position = secret_count;
    size_t length = strlen(copy);
    while (position > 0 && strlen(secrets[position - 1]) < length) {
        secrets[position] = secrets[position - 1];
        position--;
    }
    secrets[position] = copy;
    secret_count++;
    pthread_mutex_unlock(&log_mutex);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

/* ':' or its URL-encoded form (a token pasted into a query string). */
static size_t separator_length(const char *text)
{
    if (text[0] == ':')
        return 1;
    if (text[0] == '%' && text[1] == '3' && (text[2] == 'A' || text[2] == 'a'))
        return 3;
    return 0;
}

/* Length of a Telegram-token shape (\d{5,}:[A-Za-z0-9_-]{30,}, the ':' maybe
 * written %3A) starting at text, or 0. The caller only starts at the first
 * digit of a digit run. */
static size_t token_shape_length(const char *text)
{
    size_t digits = 0;
    while (is_digit(text[digits]))
        digits++;
    if (digits < TOKEN_MIN_ID_DIGITS)
        return 0;
    size_t separator = separator_length(text + digits);
    if (separator == 0)
        return 0;
    size_t secret_chars = 0;
    const char *secret_part = text + digits + separator;
    while (is_token_char(secret_part[secret_chars]))
        secret_chars++;
    if (secret_chars < TOKEN_MIN_SECRET_CHARS)
        return 0;
    return digits + separator + secret_chars;
}

static size_t registered_secret_length(const char *text)
{
    for (size_t i = 0; i < secret_count; i++) {
        size_t length = strlen(secrets[i]);
        if (strncmp(text, secrets[i], length) == 0)
            return length;
    }
    return 0;
}

/* In place: every mask is shorter than what it replaces (secrets are at least
 * 4 bytes, token shapes at least 36), so the write position never passes the
 * read position. Caller holds log_mutex. */
static void redact_locked(char *text, size_t length)
{
    size_t read = 0;
    size_t write = 0;
    while (read < length) {
        size_t match = registered_secret_length(text + read);
        int starts_digit_run = is_digit(text[read]) && (read == 0 || !is_digit(text[read - 1]));
        if (match == 0 && starts_digit_run)
            match = token_shape_length(text + read);
        if (match > 0) {
            memcpy(text + write, MASK, sizeof MASK - 1);
            write += sizeof MASK - 1;
            read += match;
            continue;
        }
        text[write++] = text[read++];
    }
    text[write] = '\0';
}

void log_redact(char *text, size_t capacity)
{
    if (text == NULL || capacity == 0)
        return;
    size_t length = strnlen(text, capacity);
    if (length == capacity) {
        length = capacity - 1;
        text[length] = '\0';
    }
    pthread_mutex_lock(&log_mutex);
    redact_locked(text, length);
    pthread_mutex_unlock(&log_mutex);
}

static void replace_control_characters(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
}

/* Cut text to at most limit bytes ending in "...", without splitting a UTF-8
 * sequence. */
static void truncate_with_mark(char *text, size_t limit)
{
    if (strlen(text) <= limit)
        return;
    size_t cut = limit - (sizeof TRUNCATION_MARK - 1);
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(text + cut, TRUNCATION_MARK, sizeof TRUNCATION_MARK);
}

static void format_timestamp(char *buffer, size_t size)
{
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    size_t length = strftime(buffer, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(buffer + length, size - length, ".%03ldZ", now.tv_nsec / 1000000L);
}

static const char *level_label(enum log_level level)
{
    switch (level) {
        case LOG_ERROR: return "ERROR";
        case LOG_WARN: return "WARN ";
        case LOG_INFO: return "INFO ";
        case LOG_DEBUG: return "DEBUG";
    }
    return "?????";
}

/* The message formatted in full (so redaction sees whole secrets before any
 * truncation could cut one in half), or NULL. */
static char *format_message(const char *format, va_list args)
{
    va_list measure;
    va_copy(measure, args);
    int length = vsnprintf(NULL, 0, format, measure);
    va_end(measure);
    if (length < 0)
        return NULL;
    char *message = malloc((size_t)length + 1);
    if (message == NULL)
        return NULL;
    vsnprintf(message, (size_t)length + 1, format, args);
    return message;
}

static void write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return;
        data += written;
        length -= (size_t)written;
    }
}

int log_enabled(enum log_level level)
{
    pthread_mutex_lock(&log_mutex);
    int enabled = level <= log_threshold;
    pthread_mutex_unlock(&log_mutex);
    return enabled;
}

void log_set_format(enum log_format format)
{
    pthread_mutex_lock(&log_mutex);
    log_output_format = format;
    pthread_mutex_unlock(&log_mutex);
}

int log_format_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "text") == 0)
        return LOG_FORMAT_TEXT;
    if (strcasecmp(name, "json") == 0)
        return LOG_FORMAT_JSON;
    return -1;
}

/* ---- the recent problems, for `jarvis status` ---- */

static void remember_problem_locked(enum log_level level, const char *timestamp, const char *origin,
                                    const char *message)
{
    memmove(&recent_problems[1], &recent_problems[0],
            (LOG_RECENT_PROBLEMS - 1) * sizeof recent_problems[0]);
    struct log_problem *problem = &recent_problems[0];
    snprintf(problem->time, sizeof problem->time, "%s", timestamp);
    snprintf(problem->level, sizeof problem->level, "%s", level == LOG_ERROR ? "error" : "warn");
    snprintf(problem->origin, sizeof problem->origin, "%s", origin);
    snprintf(problem->message, sizeof problem->message, "%s", message);
    truncate_with_mark(problem->message, sizeof problem->message - 1);
    if (recent_problem_count < LOG_RECENT_PROBLEMS)
        recent_problem_count++;
}

size_t log_recent_problems(struct log_problem *problems, size_t max)
{
    pthread_mutex_lock(&log_mutex);
    size_t count = recent_problem_count < max ? recent_problem_count : max;
    memcpy(problems, recent_problems, count * sizeof *problems);
    pthread_mutex_unlock(&log_mutex);
    return count;
}

/* ---- JSON lines ---- */

/* jansson refuses invalid UTF-8; such text goes out with its non-ASCII
 * bytes as '?' rather than not at all. */
static json_t *json_text(const char *text)
{
    json_t *value = json_string(text);
    if (value != NULL)
        return value;
    char *ascii = strdup(text);
    if (ascii == NULL)
        return NULL;
    for (unsigned char *p = (unsigned char *)ascii; *p != '\0'; p++)
        if (*p >= 0x80)
            *p = '?';
    value = json_string(ascii);
    free(ascii);
    return value;
}

static void add_field_locked(json_t *object, const struct log_field *field)
{
    if (field->key == NULL)
        return;
    if (field->kind == LOG_FIELD_INTEGER) {
        json_object_set_new(object, field->key, json_integer(field->integer));
    } else if (field->kind == LOG_FIELD_REAL) {
        json_object_set_new(object, field->key, json_real(field->real));
    } else if (field->text != NULL) {
        char *copy = strdup(field->text);
        if (copy == NULL)
            return;
        replace_control_characters(copy);
        redact_locked(copy, strlen(copy));
        truncate_with_mark(copy, FIELD_TEXT_MAX); /* the line stays within its limit */
        json_object_set_new(object, field->key, json_text(copy));
        free(copy);
    }
}

static const char *level_name(enum log_level level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return level <= LOG_DEBUG ? names[level] : "unknown";
}

/* Caller holds log_mutex; message is redacted and cut already. */
static char *json_line_locked(enum log_level level, const char *timestamp, const char *origin,
                              const char *message, const struct log_field *fields,
                              size_t field_count)
{
    json_t *object = json_object();
    if (object == NULL)
        return NULL;
    json_object_set_new(object, "time", json_string(timestamp));
    json_object_set_new(object, "level", json_string(level_name(level)));
    json_object_set_new(object, "origin", json_text(origin));
    json_object_set_new(object, "message", json_text(message));
    for (size_t i = 0; i < field_count; i++)
        add_field_locked(object, &fields[i]);
    char *line = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(object);
    return line;
}

/* ---- writing ---- */

static void write_text_locked(enum log_level level, const char *timestamp, const char *origin,
                              char *message)
{
    char prefix[128];
    int prefix_length =
        snprintf(prefix, sizeof prefix, "%s %s [%.40s] ", timestamp, level_label(level), origin);
    if (prefix_length < 0 || (size_t)prefix_length >= sizeof prefix)
        prefix_length = (int)strlen(prefix);
    char line[LOG_LINE_MAX + 1];
    truncate_with_mark(message, LOG_LINE_MAX - 1 - (size_t)prefix_length);
    int line_length = snprintf(line, sizeof line, "%s%s\n", prefix, message);
    if (line_length > 0)
        write_all(log_fd >= 0 ? log_fd : STDERR_FILENO, line,
                  (size_t)line_length < sizeof line ? (size_t)line_length : sizeof line - 1);
}

static void write_json_locked(enum log_level level, const char *timestamp, const char *origin,
                              char *message, const struct log_field *fields, size_t field_count)
{
    /* room for the other members: a few fixed ones and one cut text field */
    truncate_with_mark(message, LOG_LINE_MAX - FIELD_TEXT_MAX - 1024);
    char *line = json_line_locked(level, timestamp, origin, message, fields, field_count);
    if (line == NULL)
        return;
    size_t length = strlen(line);
    line[length] = '\n'; /* over the NUL: the write below takes the length */
    write_all(log_fd >= 0 ? log_fd : STDERR_FILENO, line, length + 1);
    free(line);
}

/* Warnings and errors are kept for status even below the log threshold. */
static void write_event(enum log_level level, const char *origin, const struct log_field *fields,
                        size_t field_count, const char *format, va_list args)
{
    int enabled = log_enabled(level);
    if (format == NULL || (!enabled && level > LOG_WARN))
        return;
    int saved_errno = errno; /* callers log then inspect errno */
    char *message = format_message(format, args);
    if (message == NULL) {
        errno = saved_errno;
        return;
    }
    replace_control_characters(message);
    char timestamp[40];
    format_timestamp(timestamp, sizeof timestamp);
    char origin_text[48];
    snprintf(origin_text, sizeof origin_text, "%.40s", origin != NULL ? origin : "core");
    replace_control_characters(origin_text);

    pthread_mutex_lock(&log_mutex);
    redact_locked(message, strlen(message));
    redact_locked(origin_text, strlen(origin_text));
    if (level <= LOG_WARN)
        remember_problem_locked(level, timestamp, origin_text, message);
    if (enabled && log_output_format == LOG_FORMAT_JSON)
        write_json_locked(level, timestamp, origin_text, message, fields, field_count);
    else if (enabled)
        write_text_locked(level, timestamp, origin_text, message);
    pthread_mutex_unlock(&log_mutex);
    free(message);
    errno = saved_errno;
}

void log_writev(enum log_level level, const char *origin, const char *format, va_list args)
{
    write_event(level, origin, NULL, 0, format, args);
}

void log_write(enum log_level level, const char *origin, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    write_event(level, origin, NULL, 0, format, args);
    va_end(args);
}

void log_write_fields(enum log_level level, const char *origin, const struct log_field *fields,
                      size_t field_count, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    write_event(level, origin, fields, field_count, format, args);
    va_end(args);
}
