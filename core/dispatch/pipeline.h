/* The update pipeline every transport uses (the transactional outbox
 * pattern): a batch of incoming messages is committed to the inbox in one
 * synced transaction before anything else happens to it; workers handle
 * each; a handler's replies, kv writes and the "handled" mark commit
 * together; the medium sends from the outbox and marks each part sent.
 * A restart resumes from the tables: unsent parts are sent, unhandled
 * updates handled, and only updates a plugin crashed on count toward the
 * poison skip. */
#ifndef JARVIS_PIPELINE_H
#define JARVIS_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

#include "dispatch/dispatch.h"
#include "state/store.h"
#include "state/store_pipeline.h"

struct host;
struct pipeline;

/* After this many crashes inside a plugin, an update is skipped. */
#define PIPELINE_MAX_CRASHES 3

struct pipeline_delivery {
    /* Hands one outbox part to the medium, which calls pipeline_sent with
     * row->id once it is out or refused for good. Any thread; row is
     * borrowed. JV_OK, or an error: the part stays for the next start. */
    int (*deliver)(void *context, const struct outbox_row *row);
    /* Splits a reply into parts the medium takes (malloc'd strings in a
     * malloc'd array, the count returned, -1 out of memory); NULL: whole.
     * html: the text is Telegram HTML (cut between tags, never in one). */
    long (*split)(const char *text, int html, char ***parts);
    void (*free_parts)(char **parts, long count);
    void *context;
};

struct pipeline *pipeline_create(struct host *host, const struct pipeline_delivery *delivery);
/* Frees deferred handles never finished (their updates stay in the inbox). */
void pipeline_destroy(struct pipeline *pipeline);

/* At start, before the first pipeline_accept: counts crash records, hands
 * the outbox to the medium, re-dispatches the inbox (an update a plugin
 * crashed on runs alone; after PIPELINE_MAX_CRASHES it is skipped with an
 * apology naming the plugin). Returns 0, or -1 when the store fails. */
int pipeline_recover(struct pipeline *pipeline);
/* Webhook hosts sharing the store (store_claims_renew): renews this host's
 * claim ([state] lease_s), so that the sender may send for three quarters
 * of it. 0; 1 when the claim had lapsed (not at_start: this run must stand
 * down, others may have taken its rows); -1 when the store fails. */
int pipeline_renew_claim(struct pipeline *pipeline, int at_start);
/* 0 while this host shares the store and its claim is not surely valid. */
int pipeline_may_send(struct pipeline *pipeline);
/* pipeline_renew_claim, then takes over, sends and dispatches the outbox
 * and inbox rows of a host that stopped renewing its own. Called at least
 * every quarter of the lease. 0, 1 (lapsed, as pipeline_renew_claim), or
 * -1 when the store fails. */
int pipeline_take_over(struct pipeline *pipeline);

/* Commits messages to the inbox and cursor_key (space "core") = cursor in
 * one synced transaction, then dispatches each. A message whose update_id
 * is already waiting in the inbox is not dispatched again. count may be 0
 * (only the cursor moves). 0, or -1 when the store failed: nothing was
 * accepted and the caller must not confirm the batch. */
int pipeline_accept(struct pipeline *pipeline, const struct incoming_message *messages,
                    size_t count, const char *cursor_key, int64_t cursor);

/* For a transport that may hear an update more than once (a webhook: the
 * sender retries until it gets a 200, also after the update was handled
 * and left the inbox): pipeline_accept of one message, taken only when
 * seen_key (space "core") is absent or holds a number below seen_floor (a
 * record too old to be a retry), and seen_key = seen_value written in the
 * same synced commit. 0 taken, 1 seen before (nothing changed, not
 * dispatched), -1 the store failed (nothing committed). */
int pipeline_accept_once(struct pipeline *pipeline, const struct incoming_message *message,
                         const char *seen_key, int64_t seen_value, int64_t seen_floor);

/* The first half of pipeline_accept, for a transport that fetches before
 * the pipeline runs (a new holder polls before its plugins load): commits
 * the messages to the inbox and the cursor; pipeline_recover dispatches
 * them. 0, or -1 when the store failed (nothing was committed). */
int pipeline_store_batch(struct store *store, const struct incoming_message *messages, size_t count,
                         const char *cursor_key, int64_t cursor);

/* A message that answers no update (send_message, jobs): committed to the
 * outbox on its own, then delivered. JV_OK or a negative JV_E_*. */
int pipeline_send(struct pipeline *pipeline, int64_t chat_id, int64_t thread_id, const char *text);
/* Any message (rich, an edit) that answers no update; reply is borrowed. */
struct pending_reply;
int pipeline_send_reply(struct pipeline *pipeline, const struct pending_reply *reply);
/* A new host reference for a message (above 2^32, unique across restarts). */
int64_t pipeline_new_reference(void);
/* The medium is done with an outbox part (row as delivered: its id,
 * update_id, chat_id and text identify it). Thread-safe. */
void pipeline_sent(struct pipeline *pipeline, const struct outbox_row *row);
/* The same for a part Telegram answered with a message id: a reference
 * != 0 is recorded as that message in the commit that removes the part. */
void pipeline_sent_as(struct pipeline *pipeline, const struct outbox_row *row, int64_t reference,
                      int64_t sent_chat_id, int64_t sent_message_id);

/* The rule for sent marks. On SQLite a mark goes into the sent journal
 * (sent_journal.h): in the page cache the moment it is written, so no
 * death of the process loses it, and folded into the database with the
 * next commit (within 100 ms when nothing else commits). After a kill -9
 * only the parts in flight repeat: at most one a sender connection. A part
 * with a reference (an edit will look its message id up) and any part
 * when the journal is full or missing are marked in the database instead:
 * written at once, committed with its group at once when nothing more is
 * queued to send, else before its sender thread or its chat sends the
 * next part, and at the latest 1 ms later; the one sent last whose mark
 * waited may then repeat too. pipeline_before_send is the point before a
 * send. */
void pipeline_before_send(struct pipeline *pipeline, int64_t chat_id);
/* Commits the open group and delivers what it held (before a stop). */
void pipeline_flush(struct pipeline *pipeline);
/* Loads again the waiting rows of chats whose last load could not read
 * the inbox, once their backoff is over (chat_admission.h); the ms until
 * the next such retry is due, or -1 when none waits. The housekeeping
 * thread calls it. */
int64_t pipeline_retry_loads(struct pipeline *pipeline);
/* wake(context) is called, from whichever thread, when a chat's load first
 * fails, so that the caller of pipeline_retry_loads asks again soon; NULL
 * ends it (the call returns only once no wake runs). */
void pipeline_set_retry_wake(struct pipeline *pipeline, void (*wake)(void *context), void *context);

/* Updates accepted and not yet committed as handled (deferred ones
 * included), and outbox parts handed out and not yet sent. */
size_t pipeline_unhandled(struct pipeline *pipeline);
size_t pipeline_unsent(struct pipeline *pipeline);

/* The ABI's defer_reply / deferred_reply / deferred_finish. */
jv_deferred *pipeline_defer(struct jv_context *work);
int pipeline_deferred_reply(jv_deferred *deferred, const char *text);
int pipeline_deferred_finish(jv_deferred *deferred);

#endif
