/* How much of one chat's backlog the pipeline holds in memory: updates being
 * handled and reply parts waiting for the sender, per chat, up to a cap.
 * What a flooding chat sends beyond it waits in the inbox table and is
 * admitted, in arrival order, as room frees up. Thread-safe. */
#ifndef JARVIS_CHAT_ADMISSION_H
#define JARVIS_CHAT_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

struct chat_admission;

struct chat_admission *chat_admission_create(long cap);
void chat_admission_destroy(struct chat_admission *admission);

/* An update of chat_id (update_id, arrived as arrival): 1 to dispatch it
 * now, 0 to leave it in the inbox (the chat is at its cap, or older rows of
 * it wait, or it was admitted before); a row left waiting is remembered by
 * its update_id for chat_admission_take_waiting. */
int chat_admission_offer(struct chat_admission *admission, int64_t chat_id, int64_t update_id,
                         int64_t arrival);
/* The update_ids of chat_id's waiting rows to load now, oldest first, and
 * *count of them; NULL when none wait or there is no room yet. The caller
 * reads those rows from the inbox, frees the array and says how it went
 * with chat_admission_loaded; meanwhile the chat is not loaded twice. */
int64_t *chat_admission_take_waiting(struct chat_admission *admission, int64_t chat_id,
                                     size_t *count);
/* What a load changed, for the caller's one log line per change. */
enum load_change {
    LOAD_UNCHANGED, /* read as the last one was, or failed again */
    LOAD_FAILED,    /* the first failed read of the chat's waiting rows */
    LOAD_RECOVERED  /* read again after failures */
};
/* The load of the taken ids is done: read 1 when the inbox was read (of
 * the rows found, dispatched were dispatched; the last found arrived at
 * last_arrival, 0 when none was), 0 when the read failed: the rows then
 * stay waiting, in order, the chat's later updates behind them, and are
 * not taken again for a wait that doubles from 0.1 s to 30 s
 * (chat_admission_due_loads names the chats whose wait is over). */
enum load_change chat_admission_loaded(struct chat_admission *admission, int64_t chat_id,
                                       size_t taken, int read, size_t dispatched,
                                       int64_t last_arrival);
/* The chats (at most max, into chats) whose failed load may be tried
 * again now; returns the ms until the next one is due, 0 when some are due
 * now, -1 when none waits for a retry. */
int64_t chat_admission_due_loads(struct chat_admission *admission, int64_t *chats, size_t max,
                                 size_t *count);
/* The handling of an update of chat_id ended; its reply parts (outbox ids)
 * are held until chat_admission_part_sent. */
void chat_admission_handled(struct chat_admission *admission, int64_t chat_id,
                            const int64_t *outbox_ids, size_t part_count);
/* A part is out: 1 and its chat when the part was held, else 0. */
int chat_admission_part_sent(struct chat_admission *admission, int64_t outbox_id, int64_t *chat_id);
/* Updates and parts held in memory now, over all chats; the most one chat held. */
size_t chat_admission_held(struct chat_admission *admission, size_t *most_of_one_chat);

#endif
