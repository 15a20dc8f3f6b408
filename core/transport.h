/* The seam between the host and where messages come from: console (stdin /
 * stdout) or Telegram. main picks one; the dispatcher and plugins only see
 * this interface. */
#ifndef JARVIS_TRANSPORT_H
#define JARVIS_TRANSPORT_H

#include <stdint.h>

struct host;

struct transport {
    const char *name; /* "console", "telegram" */
    void *state;
    /* Prepares (Telegram: getMe, setMyCommands). 0, or an exit code
     * (78 bad token / config) after logging one clear line. */
    int (*start)(struct transport *transport, struct host *host);
    /* Feeds messages to host->dispatch until a stop is requested or input
     * ends; drains in-flight handlers before returning. Returns an exit code. */
    int (*run)(struct transport *transport, struct host *host);
    /* Thread-safe; copies text; splits and rate-limits as the medium needs.
     * 0 or a negative JV_E_*. */
    int (*send)(struct transport *transport, int64_t chat_id, const char *text);
    /* The bot's username for /cmd@name ("" in console mode). */
    const char *(*bot_username)(struct transport *transport);
    void (*destroy)(struct transport *transport);
    /* Optional (NULL: the medium has no topics and host_send_to_thread uses
     * send). Like send, into forum topic thread_id (never 0). */
    int (*send_to_thread)(struct transport *transport, int64_t chat_id, int64_t thread_id,
                          const char *text);
};

struct transport *console_transport_create(void);
struct transport *telegram_transport_create(void);

#endif
