/* Group commits over the store's one connection (store_group.h): the open
 * transaction, the units' savepoints, and the end of a group however it
 * comes (asked for, or before a commit of another kind). */
#include "state/store_group.h"

#include "base/log.h"
#include "state/sent_journal.h"
#include "state/store_backend.h"
#include "state/store_handle.h"
#include "state/store_types.h"

#include <pthread.h>
#include <stdint.h>

int store_groups_commits(struct store *store)
{
    return store != NULL && store->backend->local_commits && store->backend->unit_begin != NULL;
}

void store_group_set_hook(struct store *store, store_group_ended_fn ended, void *context)
{
    if (store == NULL)
        return;
    pthread_mutex_lock(&store->mutex);
    store->group_ended = ended;
    store->group_ended_context = context;
    pthread_mutex_unlock(&store->mutex);
}

static void group_ended(struct store *store, int result)
{
    uint64_t number = store->group_number++;
    store->group_open = 0;
    if (store->group_ended != NULL)
        store->group_ended(number, result, store->group_ended_context);
}

/* With the mutex held, inside a transaction: the journal's pending marks
 * become removals in it. The end to confirm once it commits; 0 when there
 * is none, or a removal failed (the marks stay and go in a later commit:
 * removing a row twice is harmless). */
static size_t fold_into_transaction(struct store *store)
{
    size_t first = 0;
    size_t end = sent_journal_pending(store->journal, &first);
    for (size_t i = first; i < end; i++) {
        const struct sent_mark_entry *mark = sent_journal_entry(store->journal, i);
        if (store->backend->outbox_remove_sent(store->connection, mark->outbox_id, mark->update_id,
                                               mark->chat_id, mark->text_length) != 0)
            return 0;
    }
    return end > first ? end : 0;
}

int store_group_end(struct store *store)
{
    if (!store->group_open)
        return 0;
    size_t folded = fold_into_transaction(store);
    int result = store->backend->commit(store->connection); /* rolls back when it fails */
    if (result == 0 && folded > 0)
        sent_journal_folded(store->journal, folded);
    group_ended(store, result);
    return result;
}

int store_journal_fold(struct store *store)
{
    if (store->journal == NULL || store->in_transaction)
        return 0;
    if (store->group_open)
        return store_group_end(store);
    size_t first = 0;
    if (sent_journal_pending(store->journal, &first) <= first)
        return 0;
    if (store->backend->begin(store->connection, STORE_UNSYNCED) != 0)
        return -1;
    size_t folded = fold_into_transaction(store);
    if (store->backend->commit(store->connection) != 0)
        return -1;
    if (folded > 0)
        sent_journal_folded(store->journal, folded);
    return 0;
}

int store_part_sent_journaled(struct store *store, int64_t outbox_id, int64_t update_id,
                              int64_t chat_id, size_t text_length)
{
    if (store == NULL || store->journal == NULL)
        return -1;
    struct sent_mark_entry mark = {.outbox_id = outbox_id,
                                   .update_id = update_id,
                                   .chat_id = chat_id,
                                   .text_length = (int64_t)text_length};
    return sent_journal_append(store->journal, &mark);
}

size_t store_journal_pending(struct store *store)
{
    size_t first = 0;
    size_t end = store == NULL ? 0 : sent_journal_pending(store->journal, &first);
    return end - first;
}

void store_lock_for_write(struct store *store)
{
    pthread_mutex_lock(&store->mutex);
    if (!store->in_transaction)
        store_group_end(store);
}

/* With the mutex held: the open group, opened when none is. */
static int open_group(struct store *store)
{
    if (store->group_open)
        return 0;
    if (store->backend->begin(store->connection, STORE_UNSYNCED) != 0)
        return -1;
    store->group_open = 1;
    return 0;
}

/* Takes the mutex and enters the open group (opened when none is); 0, or
 * -1 with the mutex released. A group whose transaction the database
 * rolled back by itself ends as rolled back: its units commit again. */
static int enter_group(struct store *store, int savepoint, uint64_t *group)
{
    pthread_mutex_lock(&store->mutex);
    if (store->in_transaction) {
        log_error("store: a unit of a group commit inside a transaction");
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    if (open_group(store) != 0) {
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    if (store->backend->unit_begin(store->connection, savepoint) != 0) {
        store->backend->rollback(store->connection);
        group_ended(store, -1);
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    *group = store->group_number;
    return 0;
}

int store_unit_begin(struct store *store, uint64_t *group)
{
    if (!store_groups_commits(store) || group == NULL || enter_group(store, 1, group) != 0)
        return -1;
    store->in_transaction = 1;
    return 0; /* the mutex stays held until store_unit_end */
}

int store_unit_end(struct store *store, int keep)
{
    if (store == NULL || !store->in_transaction || !store->group_open)
        return -1;
    int result = store->backend->unit_end(store->connection, keep);
    store->in_transaction = 0;
    if (result != 0) {
        /* the savepoint's state is unknown: nothing of the group is trusted */
        store->backend->rollback(store->connection);
        group_ended(store, -1);
    }
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_group_commit(struct store *store)
{
    if (store == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    int result = store->in_transaction ? -1 : !store->group_open ? 1 : store_group_end(store);
    if (result == 1 && store_journal_pending(store) > 0)
        result = store_journal_fold(store) == 0 ? 2 : -1; /* the marks alone */
    pthread_mutex_unlock(&store->mutex);
    return result;
}

/* No savepoint: the removal is one statement, which SQLite undoes alone
 * when it fails, and a record kept without it is harmless (the part goes
 * again and its record is replaced). */
int store_part_sent_in_group(struct store *store, int64_t outbox_id, int64_t reference,
                             int64_t chat_id, int64_t message_id, int64_t now_ms, uint64_t *group)
{
    if (!store_groups_commits(store) || group == NULL || enter_group(store, 0, group) != 0)
        return -1;
    const struct store_backend *backend = store->backend;
    int recorded = reference == 0 || backend->sent_record(store->connection, reference, chat_id,
                                                          message_id, now_ms) == 0;
    int removed = recorded && backend->outbox_remove(store->connection, outbox_id) == 0;
    pthread_mutex_unlock(&store->mutex);
    return removed ? 0 : -1;
}
