/* Ratings held per token and refreshed off the reply path: a table of
 * records, a queue of tokens waiting for a rating, and max_concurrent worker
 * threads that fetch them (joined at shutdown). A reply only ever reads a
 * record or queues a token; the chats waiting for a never-rated token are
 * handed to the done callback when its rating arrives. */
#ifndef GROK_REFRESH_H
#define GROK_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/svc/sentiment_weight.h>

#define GROK_SYMBOL_SIZE 16
#define GROK_REFRESH_CAPACITY 128
#define GROK_FOLLOWERS_MAX 16

struct grok_record {
    char symbol[GROK_SYMBOL_SIZE];
    int has_rating;        /* rating holds an accepted answer */
    jv_grok_rating rating; /* the summary as Grok wrote it; fetched_at_ms wall clock */
    int grounded;          /* X searches made and X posts cited */
    int chat_api;          /* answered by api = chat (never from X) */
    int64_t x_searches;
    int64_t cited_posts;
    char failure[160]; /* the last attempt's failure; "" after a success */
    int64_t failure_at_ms;
    int64_t last_asked_ms; /* a user or plugin asked (tracks "recently asked") */
};

/* A chat told "rating in progress": reference is the host's reference of
 * that answer (0: none, the rating goes out as a new message); since_ms is
 * when the chat was added. */
struct grok_follower {
    int64_t chat_id;
    int64_t reference;
    int64_t since_ms;
};

/* Fetches symbol's rating: record holds the previous state on entry and the
 * new one on return. Called on a worker thread, without locks held. */
typedef void (*grok_refresh_fetch_fn)(struct grok_record *record, void *context);
/* After a fetch: the record and the chats that asked for it meanwhile. */
typedef void (*grok_refresh_done_fn)(const struct grok_record *record,
                                     const struct grok_follower *followers, size_t follower_count,
                                     void *context);

struct grok_refresh;

struct grok_refresh *grok_refresh_start(size_t workers, grok_refresh_fetch_fn fetch,
                                        grok_refresh_done_fn done, void *context);
/* Stops taking queued tokens, waits for the fetches in flight, joins. */
void grok_refresh_stop(struct grok_refresh *refresh);

/* Adds a stored record (at startup). */
void grok_refresh_load(struct grok_refresh *refresh, const struct grok_record *record);

/* Copies symbol's record; returns 1 when there is one. *pending (may be
 * NULL) tells whether a fetch is queued or running. */
int grok_refresh_lookup(struct grok_refresh *refresh, const char *symbol, struct grok_record *out,
                        int *pending);

/* Marks symbol asked at now_ms (creating its record). */
void grok_refresh_touch(struct grok_refresh *refresh, const char *symbol, int64_t now_ms);

/* Queues symbol unless it is queued or running already; chat_id (0: none)
 * is told when the rating arrives. Returns 1 when newly queued, 0 when it
 * was pending already, -1 when the table is full. */
int grok_refresh_request(struct grok_refresh *refresh, const char *symbol, int64_t chat_id);

/* Adds a follower to symbol's fetch in flight or queued: 1 when added, 0
 * when no fetch is pending any more (the rating already arrived), -1 when
 * the follower list is full. */
int grok_refresh_follow(struct grok_refresh *refresh, const char *symbol,
                        const struct grok_follower *follower);

/* Symbols asked since since_ms, for the periodic refresh; at most max. */
size_t grok_refresh_recent(struct grok_refresh *refresh, int64_t since_ms,
                           char (*out)[GROK_SYMBOL_SIZE], size_t max);

/* The most fetches that ran at once so far (for the status line and tests). */
size_t grok_refresh_peak(struct grok_refresh *refresh);

#endif
