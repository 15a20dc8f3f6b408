/* Group commits: several units of work (one update's handled commit, one
 * sent mark) in one transaction, each in a savepoint of its own, so that a
 * failing unit takes back only its writes while the group's COMMIT costs
 * one WAL append and one lock round for all. Between units the transaction
 * stays open and no thread holds it: the connection's readers see the
 * units' writes (read-your-writes across updates), and any commit of
 * another kind (store_begin, a write outside a transaction) commits the
 * group first. A death of the process before the COMMIT loses the whole
 * group, as it loses one uncommitted transaction. Where commits are not
 * local (PostgreSQL), there are no groups: store_groups_commits says 0. */
#ifndef JARVIS_STORE_GROUP_H
#define JARVIS_STORE_GROUP_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Told each time a group ends: its number, 0 committed or -1 rolled back
 * (every unit in it undone). Runs under the store's mutex, on whichever
 * thread ended the group: it must not call the store. */
typedef void (*store_group_ended_fn)(uint64_t group, int result, void *context);

/* 1 when units may be grouped (SQLite). */
int store_groups_commits(struct store *store);
void store_group_set_hook(struct store *store, store_group_ended_fn ended, void *context);

/* Opens a unit in the open group (opening one when none is): returns
 * with the store held, like store_begin; the unit's writes go through the
 * ordinary calls. *group: the number its group will end with. 0 or -1
 * (nothing held then). */
int store_unit_begin(struct store *store, uint64_t *group);
/* keep: the writes stay in the group (committed with it); 0: only this
 * unit's writes are undone. Releases the store. 0, or -1: the unit could
 * not be ended and its whole group was rolled back (the hook says so). */
int store_unit_end(struct store *store, int keep);
/* Commits the open group: 0, -1 (rolled back), 1 when none was open and
 * no journal marks waited, 2 when only the journal's marks were committed. */
int store_group_commit(struct store *store);

/* store_part_sent as a unit of the open group: the record and the outbox
 * row's removal are written now (a lookup on this store finds the record)
 * and committed with the group. *group as store_unit_begin. 0 or -1. */
int store_part_sent_in_group(struct store *store, int64_t outbox_id, int64_t reference,
                             int64_t chat_id, int64_t message_id, int64_t now_ms, uint64_t *group);

/* A part is sent: its mark goes into the sent journal (sent_journal.h),
 * no commit and no syscall, safe from any thread; the row leaves the
 * outbox with the next commit (of a group, or store_group_commit when
 * none is open). 0, or -1 when the store has no journal or it is full
 * (mark the part with store_part_sent_in_group or store_part_sent). */
int store_part_sent_journaled(struct store *store, int64_t outbox_id, int64_t update_id,
                              int64_t chat_id, size_t text_length);
/* Marks in the journal not yet folded into the database. */
size_t store_journal_pending(struct store *store);

/* For the store's front files (store.c, store_pipeline.c). */
/* Takes the mutex for a write: outside a transaction the write commits on
 * its own, so an open group commits first (its units stay in order, and
 * the write is durable when it returns, as store.h says). */
void store_lock_for_write(struct store *store);
/* With the mutex held: commits the open group, if any, with the
 * journal's marks; 0 or -1. */
int store_group_end(struct store *store);
/* With the mutex held, outside a caller's transaction: the journal's marks
 * are committed (with the open group, if any); 0 or -1. */
int store_journal_fold(struct store *store);

#endif
