/* Outgoing Telegram messages: splitting long texts the way Telegram counts
 * (UTF-16 units), a never-dropping queue, and one sender thread that keeps to
 * per-chat and overall rate limits and follows 429 / migrate_to_chat_id. */
#ifndef JARVIS_TELEGRAM_SEND_H
#define JARVIS_TELEGRAM_SEND_H

#include <stddef.h>
#include <stdint.h>

/* Telegram's limit for one message's text, in UTF-16 code units. */
#define TELEGRAM_MESSAGE_LIMIT 4096

/* Splits UTF-8 text into chunks of at most max_units UTF-16 units, cutting at
 * the last line break, else the last space, else between characters (never
 * inside a UTF-8 sequence). Invalid UTF-8 becomes U+FFFD; whitespace-only
 * chunks are dropped. Returns the number of chunks (malloc'd strings in a
 * malloc'd array; free with telegram_chunks_free), or -1 when out of memory. */
long telegram_split_text(const char *text, size_t max_units, char ***chunks);
void telegram_chunks_free(char **chunks, long count);
/* UTF-16 units of valid UTF-8 text (for tests and checks). */
size_t telegram_utf16_length(const char *text);

struct telegram_send_limits {
    double per_chat_per_second; /* default 1 */
    double per_chat_burst;      /* messages a quiet chat may send at once, default 3 */
    double total_per_second;    /* default 30 */
    int64_t backoff_initial_ms; /* 5xx / network retry ladder */
    int64_t backoff_max_ms;
};

/* Called (on some thread) once every message queued for an update went out. */
typedef void (*telegram_update_sent_fn)(int64_t update_id, void *context);

struct telegram_sender;

struct telegram_sender *telegram_sender_create(const char *api_base, const char *token,
                                               const struct telegram_send_limits *limits,
                                               telegram_update_sent_fn on_update_sent,
                                               void *context);
/* Thread-safe. Copies and splits text. Messages queued on a thread belong to
 * the update that thread finishes next (telegram_sender_finish_update). */
int telegram_sender_enqueue(struct telegram_sender *sender, int64_t chat_id, const char *text);
/* Like telegram_sender_enqueue, into forum topic thread_id (0: none); every
 * part of a split text carries it. Should Telegram refuse a part with 400
 * (the topic was deleted or closed), that part is sent once more without it. */
int telegram_sender_enqueue_to_thread(struct telegram_sender *sender, int64_t chat_id,
                                      int64_t thread_id, const char *text);
/* On the thread that handled update_id, after its handlers returned:
 * on_update_sent fires once the messages it queued are sent (or dropped as
 * rejected by Telegram), possibly right away on this thread. */
void telegram_sender_finish_update(struct telegram_sender *sender, int64_t update_id);
/* Waits until the queue is empty or timeout_ms passes; returns what is left. */
size_t telegram_sender_flush(struct telegram_sender *sender, int64_t timeout_ms);
/* Stops the thread (aborting a send in progress) and frees; unsent messages
 * are counted in one log line and their updates stay unconfirmed. */
void telegram_sender_destroy(struct telegram_sender *sender);

#endif
