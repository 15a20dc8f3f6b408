/* Logging: timestamped, levelled lines to stderr or [bot] log_file, as text
 * or one JSON object per line ([bot] log_format), with every registered
 * secret (bot token, env: values) masked before writing. The last warnings
 * and errors are kept for `jarvis status`. */
#ifndef JARVIS_LOG_H
#define JARVIS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

/* path NULL or "": stderr. Returns 0, or -1 with errno when the file won't open. */
int log_open(const char *path, enum log_level level);
/* For SIGHUP (logrotate): reopen the same path. Safe to call from the main loop. */
int log_reopen(void);
void log_close(void);
void log_set_level(enum log_level level);
/* "error" | "warn" | "info" | "debug", any case -> level; -1 when unknown. */
int log_level_parse(const char *name);
/* 1 when a line at level would be written. */
int log_enabled(enum log_level level);
void log_set_format(enum log_format format);
/* "text" | "json", any case -> format; -1 when unknown. */
int log_format_parse(const char *name);

/* Every later log line has each occurrence of secret replaced by "***".
 * Secrets shorter than 4 bytes are ignored (they would mask ordinary text). */
void log_add_secret(const char *secret);
/* Masks registered secrets and Telegram-token shapes (bot123:ABC...) in text,
 * in place; used for every line and for error texts shown to users. */
void log_redact(char *text, size_t capacity);

/* origin: plugin name, or NULL for the core. One line each; never longer than 4 KiB. */
void log_write(enum log_level level, const char *origin, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void log_writev(enum log_level level, const char *origin, const char *format, va_list args);

/* Named values of one event. In JSON lines they become members next to
 * time, level, origin and message; text lines show only the message, which
 * should say the same in words. Text values are redacted like messages. */
enum log_field_kind { LOG_FIELD_TEXT, LOG_FIELD_INTEGER, LOG_FIELD_REAL };
struct log_field {
    const char *key;
    enum log_field_kind kind;
    const char *text; /* LOG_FIELD_TEXT; NULL leaves the field out */
    int64_t integer;
    double real;
};
void log_write_fields(enum log_level level, const char *origin, const struct log_field *fields,
                      size_t field_count, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* The most recent warnings and errors, newest first, already redacted. */
#define LOG_RECENT_PROBLEMS 3
struct log_problem {
    char time[40]; /* UTC, ISO 8601 */
    char level[8]; /* "error" | "warn" */
    char origin[48];
    char message[256];
};
size_t log_recent_problems(struct log_problem *problems, size_t max);

#define log_error(...) log_write(LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
