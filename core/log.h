/* Logging: timestamped, levelled lines to stderr or [bot] log_file, with
 * every registered secret (bot token, env: values) masked before writing. */
#ifndef JARVIS_LOG_H
#define JARVIS_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* path NULL or "": stderr. Returns 0, or -1 with errno when the file won't open. */
int log_open(const char *path, enum log_level level);
/* For SIGHUP (logrotate): reopen the same path. Safe to call from the main loop. */
int log_reopen(void);
void log_close(void);
void log_set_level(enum log_level level);
/* "error" | "warn" | "info" | "debug", any case -> level; -1 when unknown. */
int log_level_parse(const char *name);

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

#define log_error(...) log_write(LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
