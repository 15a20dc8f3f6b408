/* Outgoing Telegram messages: splitting long texts the way Telegram counts
 * (UTF-16 units), and a sender that sends already-split parts from a pool of
 * threads, concurrently across chats, in order within a chat, within per-chat
 * and overall rate limits, following 429 / migrate_to_chat_id. */
#ifndef JARVIS_TELEGRAM_SEND_H
#define JARVIS_TELEGRAM_SEND_H

#include <stddef.h>
#include <stdint.h>

/* Telegram's limit for one message's text, in UTF-16 code units. */
#define TELEGRAM_MESSAGE_LIMIT 4096

/* One part of a reply, already split to <= 4096 UTF-16 units by the caller. */
struct outgoing_message {
    int64_t outbox_id; /* the caller's durable id of this part (opaque to the sender) */
    int64_t update_id; /* for log lines only; -1 when it answers no update */
    int64_t chat_id;
    int64_t thread_id; /* forum topic, 0 for none */
    const char *text;  /* copied */
    /* All copied; NULL / 0 for a plain sendMessage. */
    const char *method;  /* "sendPhoto", "editMessageText", "answerCallbackQuery"... */
    const char *options; /* the method's other parameters, a JSON object */
    const void *file;    /* sendPhoto / sendDocument bytes, sent as multipart */
    size_t file_length;
    const char *file_name;
    int64_t reference;       /* the caller's reference: its message_id is reported */
    int64_t target;          /* edits: a reference (resolved) or a message id */
    int64_t sent_message_id; /* set for the callback: Telegram's message_id, 0 unknown */
};

enum send_outcome {
    SEND_DELIVERED,
    SEND_REFUSED /* Telegram refused it for good (4xx other than 429/migrate/topic); dropped */
};

/* Called on a sender thread, without the sender's lock held, once per
 * enqueued message, exactly once, when it is finished. */
typedef void (*telegram_sent_fn)(const struct outgoing_message *message, enum send_outcome outcome,
                                 void *context);

struct telegram_send_limits {
    double per_chat_per_second; /* default 1 */
    double per_chat_burst;      /* messages a quiet chat may send at once, default 3 */
    double total_per_second;    /* default 30 */
    int64_t backoff_initial_ms; /* 5xx / network retry ladder */
    int64_t backoff_max_ms;
    int connections; /* concurrent sendMessage calls, default 4 (0 -> 4) */
};

struct telegram_sender;

struct telegram_sender *telegram_sender_create(const char *api_base, const char *token,
                                               const struct telegram_send_limits *limits,
                                               telegram_sent_fn on_sent, void *context);
/* Turns an edit's target into the message id to edit (0: unknown, the edit
 * is dropped with a log line). Called on a sender thread. */
typedef int64_t (*telegram_resolve_fn)(int64_t target, void *context);
void telegram_sender_set_resolver(struct telegram_sender *sender, telegram_resolve_fn resolve,
                                  void *context);
/* While open() answers 0 (the state store is down) nothing is sent: a part
 * sent then could not leave the outbox and would go again. Asked on a
 * sender thread, with no lock of the sender's held. */
typedef int (*telegram_gate_fn)(void *context);
void telegram_sender_set_gate(struct telegram_sender *sender, telegram_gate_fn open, void *context);
/* Called on a sender thread, no lock held, just before a message of
 * chat_id (the caller's chat id, not a migrated one) goes out. */
typedef void (*telegram_before_send_fn)(int64_t chat_id, void *context);
void telegram_sender_set_before_send(struct telegram_sender *sender,
                                     telegram_before_send_fn before_send, void *context);
/* Thread-safe; copies the message. JV_OK or a negative JV_E_*
 * (<jarvis/plugin.h>): JV_E_INVAL for an empty or oversized text,
 * JV_E_NOMEM, JV_E_STATE once destroy has begun. */
int telegram_sender_enqueue(struct telegram_sender *sender, const struct outgoing_message *message);
/* Enqueued and not yet finished. */
size_t telegram_sender_queued(struct telegram_sender *sender);
/* Waits until the queue is empty or timeout_ms passes; returns what is left. */
size_t telegram_sender_flush(struct telegram_sender *sender, int64_t timeout_ms);
/* Chats the sender currently holds state for (for tests: bounded memory). */
size_t telegram_sender_lane_count(struct telegram_sender *sender);
/* Aborts sends in flight and frees; unfinished messages get NO callback (they
 * stay in the caller's outbox and are sent after a restart); logs one line
 * with their count. */
void telegram_sender_destroy(struct telegram_sender *sender);

#endif
