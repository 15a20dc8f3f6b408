/* The update pipeline's tables in the store: the inbox (updates accepted
 * and not yet handled), the outbox (reply parts not yet sent) and the
 * record of what was sent. Same transaction rules as store.h. */
#ifndef JARVIS_STORE_PIPELINE_H
#define JARVIS_STORE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "state/store_types.h"

struct store;

/* 0 added, 1 an update with that id is already waiting (nothing changed), -1 error.
 * arrival orders the rows for store_inbox_list (the caller's counter). */
int store_inbox_add(struct store *store, int64_t update_id, int64_t chat_id, const char *payload,
                    int64_t arrival);
/* 0, or -1 on error; a missing row is not an error, except on a shared
 * store (store_claims_renew): 1, the row is not this host's (any more). */
int store_inbox_remove(struct store *store, int64_t update_id);
int store_inbox_count_crash(struct store *store, int64_t update_id, const char *plugin);
/* In arrival order; visit's row is borrowed; non-zero from visit stops. 0 or -1. */
int store_inbox_list(struct store *store, int (*visit)(const struct inbox_row *row, void *context),
                     void *context);
/* The rows of these update_ids, in the order given, each read by its key
 * (a flooding chat's rows left in the inbox); an id without a row is
 * skipped. 0 or -1. */
int store_inbox_get(struct store *store, const int64_t *update_ids, size_t count,
                    store_inbox_visit visit, void *context);
/* The new row's id (> 0), or -1 on error. */
int64_t store_outbox_add(struct store *store, int64_t update_id, int64_t chat_id, int64_t thread_id,
                         const char *text);
/* The whole row (its id ignored); the new id or -1. */
int64_t store_outbox_add_row(struct store *store, const struct outbox_row *row);
int store_outbox_remove(struct store *store, int64_t id);
/* What a host reference became once sent: Telegram's chat and message id.
 * Records older than a week are pruned as new ones come. 0 or -1. */
int store_sent_record(struct store *store, int64_t reference, int64_t chat_id, int64_t message_id,
                      int64_t now_ms);
/* A part is sent: what Telegram called it (when reference != 0, as
 * store_sent_record) and the outbox row's removal, in one commit where
 * commits are local (SQLite: the record and the mark are atomic, one WAL
 * write and one lock round instead of two), in this order otherwise, so
 * an edit queued behind the part always finds its message id. Marks of
 * parts sent at the same moment by other threads share that commit (the
 * first to get the store commits all waiting); none waits for a later
 * one. 0 or -1. */
int store_part_sent(struct store *store, int64_t outbox_id, int64_t reference, int64_t chat_id,
                    int64_t message_id, int64_t now_ms);
/* 0 and *message_id, 1 unknown (never sent, or pruned), -1 error. */
int store_sent_lookup(struct store *store, int64_t reference, int64_t *message_id);
int store_outbox_list(struct store *store,
                      int (*visit)(const struct outbox_row *row, void *context), void *context);
/* Rows waiting, or -1 on error. */
long store_inbox_count(struct store *store);
long store_outbox_count(struct store *store);

/* Webhook hosts sharing one PostgreSQL database (store_settings.owner):
 * each handles and sends only the rows it took, and the lists above give
 * only those. A host renews its claim (at least every claim_ms / 3); the
 * rows of one that stopped renewing for claim_ms (killed, cut off) are
 * taken over by the next host to ask, each row by one host. Without an
 * owner, or on SQLite, every row is this host's and these do nothing. */
/* 0 renewed, 1 renewed but the claim had lapsed before (other hosts may
 * have taken this host's rows over), -1 error. */
int store_claims_renew(struct store *store);
/* Takes over at most limit stale inbox rows, renumbered from first_arrival
 * up in their order; visits them (arrival order). 0 or -1. */
int store_inbox_claim_stale(struct store *store, int64_t first_arrival, size_t limit,
                            store_inbox_visit visit, void *context);
/* Takes over the stale outbox rows; visits them in id order. 0 or -1. */
int store_outbox_claim_stale(struct store *store, store_outbox_visit visit, void *context);
/* Inside a transaction: until it ends, no other host's transaction that
 * asks for the same update_id gets past this. 0 or -1. */
int store_lock_update(struct store *store, int64_t update_id);

#endif
