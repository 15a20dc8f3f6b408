/* plugins.ini: parsed once with inih into this struct. Errors come back as
 * lines "FILE:LINE: what is wrong", every one found (up to a limit); the
 * caller exits 78 (EX_CONFIG). The keys of [bot], [lock] and [plugins] are
 * described by the table in config_schema.c. */
#ifndef JARVIS_CONFIG_H
#define JARVIS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum transport_kind { TRANSPORT_AUTO, TRANSPORT_TELEGRAM, TRANSPORT_CONSOLE };
enum bot_mode { BOT_MODE_POLLING, BOT_MODE_WEBHOOK };

struct config_entry {
    char *section;
    char *key;
    char *value; /* env:VAR already resolved */
    int line;
};

struct config {
    char *path;      /* the file it came from, as given */
    char *directory; /* its directory, absolute: relative paths start here */
    /* [bot] */
    char *token;            /* resolved; "" when none */
    char *api_base;         /* default https://api.telegram.org */
    enum transport_kind transport;
    int bot_mode;           /* enum bot_mode, default polling */
    int poll_timeout;       /* seconds, default 50 */
    int workers;            /* default 4 */
    char *state_dir;        /* absolute after loading; default <directory>/state */
    char *log_file;         /* "" = stderr, else absolute */
    int log_level;          /* enum log_level */
    int log_format;         /* enum log_format, default LOG_FORMAT_TEXT */
    int64_t *admins;        /* user ids */
    size_t admin_count;
    int64_t handler_budget_ms; /* default 10000 */
    int64_t shutdown_grace_ms; /* how long SIGTERM waits for handlers, default 10000 */
    int delete_webhook;     /* default 0 */
    int allow_core_dumps;   /* default 0: PR_SET_DUMPABLE 0, no core holds the token */
    int reply_quotes;       /* in groups an answer quotes the question, default 1 */
    int handle_edited_messages; /* an edited message is handled again, default 0 */
    int64_t backoff_initial_ms; /* first retry delay after a failure, default 1000 */
    int64_t backoff_max_ms;     /* cap of the doubling delay, default 60000 */
    double send_rate_per_chat;  /* messages per second to one chat, default 1 */
    double send_burst_per_chat; /* short burst allowed per chat, default 3 */
    double send_rate_total;     /* messages per second overall, default 30 */
    /* [lock] */
    char *lock_path;        /* "" = default location, else absolute */
    int lock_max_wait;      /* seconds, default 30, 0 = forever */
    /* [metrics] */
    char *metrics_listen;   /* "" = no metrics server */
    int metrics_allow_remote; /* serve on a non-loopback address, default 0 */
    /* [webhook] (config_webhook.c checks them) */
    char *webhook_listen;   /* default 127.0.0.1:8443 */
    int webhook_allow_remote;
    char *webhook_url;      /* the public https:// URL; required in webhook mode */
    char *webhook_path;     /* "" = the path of webhook_url */
    char *webhook_secret;   /* "" = generated, kept in the store */
    int webhook_max_connections; /* default 40 */
    /* [plugins] */
    char *plugin_dir;       /* absolute directories joined by ':'; default <directory>/plugins */
    char **enable;          /* names in load order */
    size_t enable_count;
    /* every entry of every non-reserved section (plugin sections), in file order */
    struct config_entry *entries;
    size_t entry_count;
};

/* Fills *config with defaults, then the file, then makes every core path
 * absolute against the file's directory. Returns 0, or -1 with the errors in
 * error, one per line ("plugins.ini:12: workers must be an integer 1..64
 * (found 'x')"), as many whole lines as fit. Warnings (unknown keys, with a
 * did-you-mean; sections no enabled plugin reads) go to the log. */
int config_load(const char *path, struct config *config, char *error, size_t error_size);
#define CONFIG_ERROR_LIMIT 20

/* The file to read: option_path (-c), else $JARVIS_CONFIG, else
 * ./plugins.ini when it exists, else system_path. */
const char *config_choose_path(const char *option_path, const char *system_path);
/* Sets config->directory and makes state_dir, log_file, lock_path and each
 * [plugins] dir absolute against it (config_paths.c; called by config_load). */
int config_resolve_paths(struct config *config, char *error, size_t error_size);
/* chdir to config->directory, so plugin data files named relative in their
 * sections follow the config file too. 0 or -1 (errno set). */
int config_enter_directory(const struct config *config);
void config_free(struct config *config);

/* A plugin section's value, or NULL. Borrowed until config_free. */
const char *config_lookup(const struct config *config, const char *section, const char *key);
/* The line a plugin section key came from, 0 if absent (for error messages). */
int config_lookup_line(const struct config *config, const char *section, const char *key);
int config_is_admin(const struct config *config, int64_t user_id);
/* bot, lock, metrics, plugins (the reserved sections) and core (the core's store
 * namespace): names no plugin may have. */
int config_is_reserved_name(const char *name);
/* true/yes/on/1 and false/no/off/0, any case: 0 and *result, or -1. The one
 * reading of a boolean, for [bot] keys and plugin sections alike. */
int config_parse_boolean(const char *text, int *result);

#endif
