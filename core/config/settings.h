/* The settings as parsed from plugins.ini (struct config), a plain struct:
 * the schema (config_schema.c) fills it field by field, the loader
 * (config.c) drives the schema, and everything else reads it. */
#ifndef JARVIS_SETTINGS_H
#define JARVIS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

enum transport_kind { TRANSPORT_AUTO, TRANSPORT_TELEGRAM, TRANSPORT_CONSOLE };
enum bot_mode { BOT_MODE_POLLING, BOT_MODE_WEBHOOK };
/* [state] backend, in the order of its choices */
enum state_backend { STATE_BACKEND_SQLITE, STATE_BACKEND_POSTGRES };

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
    char *token;    /* resolved; "" when none */
    char *api_base; /* default https://api.telegram.org */
    enum transport_kind transport;
    int bot_mode;     /* enum bot_mode, default polling */
    int poll_timeout; /* seconds, default 50 */
    int workers;      /* default 4 */
    char *state_dir;  /* absolute after loading; default <directory>/state */
    char *log_file;   /* "" = stderr, else absolute */
    int log_level;    /* enum log_level */
    int log_format;   /* enum log_format, default LOG_FORMAT_TEXT */
    int64_t *admins;  /* user ids */
    size_t admin_count;
    int64_t handler_budget_ms;  /* default 10000 */
    int64_t shutdown_grace_ms;  /* how long SIGTERM waits for handlers, default 10000 */
    int delete_webhook;         /* default 0 */
    int allow_core_dumps;       /* default 0: PR_SET_DUMPABLE 0, no core holds the token */
    int reply_quotes;           /* in groups an answer quotes the question, default 1 */
    int handle_edited_messages; /* an edited message is handled again, default 0 */
    int64_t backoff_initial_ms; /* first retry delay after a failure, default 1000 */
    int64_t backoff_max_ms;     /* cap of the doubling delay, default 60000 */
    double send_rate_per_chat;  /* messages per second to one chat, default 1 */
    double send_burst_per_chat; /* short burst allowed per chat, default 3 */
    double send_rate_total;     /* messages per second overall, default 30 */
    int send_connections;       /* sendMessage calls in flight at once, default 4 */
    int chat_backlog_in_memory; /* one chat's updates held in memory, default 256 */
    /* [lock] */
    char *lock_path;   /* "" = default location, else absolute */
    int lock_max_wait; /* seconds, default 30, 0 = forever */
    /* [metrics] */
    char *metrics_listen;     /* "" = no metrics server */
    int metrics_allow_remote; /* serve on a non-loopback address, default 0 */
    /* [webhook] (config_webhook.c checks them) */
    char *webhook_listen; /* default 127.0.0.1:8443 */
    int webhook_allow_remote;
    char *webhook_url;           /* the public https:// URL; required in webhook mode */
    char *webhook_path;          /* "" = the path of webhook_url */
    char *webhook_secret;        /* "" = generated, kept in the store */
    int webhook_max_connections; /* default 40 */
    /* [state] */
    int state_backend; /* enum state_backend, default sqlite */
    char *state_dsn;   /* resolved; "" when none (a secret: may hold a password) */
    int lease_s;       /* database lock heartbeat lease in seconds, default 10 */
    /* [plugins] */
    char *plugin_dir; /* absolute directories joined by ':'; default <directory>/plugins */
    char **enable;    /* names in load order */
    size_t enable_count;
    /* every entry of every non-reserved section (plugin sections), in file order */
    struct config_entry *entries;
    size_t entry_count;
};

#endif
