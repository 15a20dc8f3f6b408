/* plugins.ini: parsed once with inih into this struct. Errors come back as
 * one line "FILE:LINE: what is wrong"; the caller exits 78 (EX_CONFIG). */
#ifndef JARVIS_CONFIG_H
#define JARVIS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum transport_kind { TRANSPORT_AUTO, TRANSPORT_TELEGRAM, TRANSPORT_CONSOLE };

struct config_entry {
    char *section;
    char *key;
    char *value; /* env:VAR already resolved */
    int line;
};

struct config {
    char *path; /* the file it came from */
    /* [bot] */
    char *token;            /* resolved; "" when none */
    char *api_base;         /* default https://api.telegram.org */
    enum transport_kind transport;
    int poll_timeout;       /* seconds, default 50 */
    int workers;            /* default 4 */
    char *state_dir;        /* default "state", relative to the cwd */
    char *log_file;         /* "" = stderr */
    int log_level;          /* enum log_level */
    int64_t *admins;        /* user ids */
    size_t admin_count;
    int64_t handler_budget_ms; /* default 10000 */
    int64_t shutdown_grace_ms; /* how long SIGTERM waits for handlers, default 10000 */
    int delete_webhook;     /* default 0 */
    int reply_quotes;       /* in groups an answer quotes the question, default 1 */
    int handle_edited_messages; /* an edited message is handled again, default 0 */
    int64_t backoff_initial_ms; /* first retry delay after a failure, default 1000 */
    int64_t backoff_max_ms;     /* cap of the doubling delay, default 60000 */
    double send_rate_per_chat;  /* messages per second to one chat, default 1 */
    double send_burst_per_chat; /* short burst allowed per chat, default 3 */
    double send_rate_total;     /* messages per second overall, default 30 */
    /* [lock] */
    char *lock_path;        /* "" = default location */
    int lock_max_wait;      /* seconds, default 30, 0 = forever */
    /* [plugins] */
    char *plugin_dir;       /* default "plugins" */
    char **enable;          /* names in load order */
    size_t enable_count;
    /* every entry of every non-reserved section (plugin sections), in file order */
    struct config_entry *entries;
    size_t entry_count;
};

/* Fills *config with defaults, then the file. Returns 0, or -1 with a one-line
 * message in error ("plugins.ini:12: workers must be 1..64, got 'x'").
 * Warnings (unknown keys in reserved sections) go to the log. */
int config_load(const char *path, struct config *config, char *error, size_t error_size);
void config_free(struct config *config);

/* A plugin section's value, or NULL. Borrowed until config_free. */
const char *config_lookup(const struct config *config, const char *section, const char *key);
/* The line a plugin section key came from, 0 if absent (for error messages). */
int config_lookup_line(const struct config *config, const char *section, const char *key);
int config_is_admin(const struct config *config, int64_t user_id);
/* bot, lock, plugins (the reserved sections) and core (the core's store
 * namespace): names no plugin may have. */
int config_is_reserved_name(const char *name);
/* true/yes/on/1 and false/no/off/0, any case: 0 and *result, or -1. The one
 * reading of a boolean, for [bot] keys and plugin sections alike. */
int config_parse_boolean(const char *text, int *result);

#endif
