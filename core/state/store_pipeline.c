/* The front of the store's pipeline calls (inbox, outbox, sent records):
 * the same argument checks and mutex as store.c, the work done by the
 * configured backend. */
#include "state/store_pipeline.h"

#include "state/sent_journal.h"
#include "state/store_backend.h"
#include "state/store_group.h"
#include "state/store_handle.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

int store_inbox_add(struct store *store, int64_t update_id, int64_t chat_id, const char *payload,
                    int64_t arrival)
{
    if (store == NULL || payload == NULL)
        return -1;
    store_lock_for_write(store);
    int result = store->backend->inbox_add(store->connection, update_id, chat_id, payload, arrival);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_inbox_remove(struct store *store, int64_t update_id)
{
    if (store == NULL)
        return -1;
    store_lock_for_write(store);
    int result = store->backend->inbox_remove(store->connection, update_id);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_inbox_count_crash(struct store *store, int64_t update_id, const char *plugin)
{
    if (store == NULL)
        return -1;
    store_lock_for_write(store);
    int result = store->backend->inbox_count_crash(store->connection, update_id,
                                                   plugin != NULL ? plugin : "");
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_inbox_list(struct store *store, store_inbox_visit visit, void *context)
{
    if (store == NULL || visit == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    int result = store->backend->inbox_list(store->connection, visit, context);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_inbox_get(struct store *store, const int64_t *update_ids, size_t count,
                    store_inbox_visit visit, void *context)
{
    if (store == NULL || visit == NULL || (update_ids == NULL && count > 0))
        return -1;
    pthread_mutex_lock(&store->mutex);
    int result = count == 0 ? 0
                            : store->backend->inbox_get(store->connection, update_ids, count, visit,
                                                        context);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int64_t store_outbox_add_row(struct store *store, const struct outbox_row *row)
{
    if (store == NULL || row == NULL || row->text == NULL)
        return -1;
    store_lock_for_write(store);
    int64_t id = store->backend->outbox_add(store->connection, row);
    pthread_mutex_unlock(&store->mutex);
    return id;
}

int64_t store_outbox_add(struct store *store, int64_t update_id, int64_t chat_id, int64_t thread_id,
                         const char *text)
{
    struct outbox_row row = {
        .update_id = update_id, .chat_id = chat_id, .thread_id = thread_id, .text = text};
    return store_outbox_add_row(store, &row);
}

int store_outbox_remove(struct store *store, int64_t id)
{
    if (store == NULL)
        return -1;
    store_lock_for_write(store);
    int result = store->backend->outbox_remove(store->connection, id);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

/* The rows of parts the journal marks sent are skipped, should the marks
 * not be in the database yet (a fold that failed: a full disk). */
struct unmarked_rows {
    const struct sent_journal *journal;
    size_t first, end;
    store_outbox_visit visit;
    void *context;
};

static int marked_sent(const struct unmarked_rows *rows, const struct outbox_row *row)
{
    int64_t text_length = row->text != NULL ? (int64_t)strlen(row->text) : 0;
    for (size_t i = rows->first; i < rows->end; i++) {
        const struct sent_mark_entry *mark = sent_journal_entry(rows->journal, i);
        if (mark->outbox_id == row->id && mark->update_id == row->update_id &&
            mark->chat_id == row->chat_id && mark->text_length == text_length)
            return 1;
    }
    return 0;
}

static int visit_unmarked(const struct outbox_row *row, void *context)
{
    struct unmarked_rows *rows = context;
    return marked_sent(rows, row) ? 0 : rows->visit(row, rows->context);
}

int store_outbox_list(struct store *store, store_outbox_visit visit, void *context)
{
    if (store == NULL || visit == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    store_journal_fold(store);
    struct unmarked_rows rows = {.journal = store->journal, .visit = visit, .context = context};
    rows.end = sent_journal_pending(store->journal, &rows.first);
    int result = rows.end > rows.first
                     ? store->backend->outbox_list(store->connection, visit_unmarked, &rows)
                     : store->backend->outbox_list(store->connection, visit, context);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_sent_record(struct store *store, int64_t reference, int64_t chat_id, int64_t message_id,
                      int64_t now_ms)
{
    if (store == NULL)
        return -1;
    store_lock_for_write(store);
    int result =
        store->backend->sent_record(store->connection, reference, chat_id, message_id, now_ms);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

/* One sent part waiting for its commit, on its sender's stack: the sender
 * does not return before it holds the mutex, so whoever takes the mark
 * (under the mutex) writes it and its result before the sender reads. */
struct sent_mark {
    struct sent_mark *next;
    int64_t outbox_id, reference, chat_id, message_id, now_ms;
    int result;
};

static void push_mark(struct store *store, struct sent_mark *mark)
{
    mark->next = atomic_load(&store->marks);
    while (!atomic_compare_exchange_weak(&store->marks, &mark->next, mark))
        ;
}

static int write_mark(struct store *store, const struct sent_mark *mark)
{
    const struct store_backend *backend = store->backend;
    int recorded = mark->reference == 0 ||
                   backend->sent_record(store->connection, mark->reference, mark->chat_id,
                                        mark->message_id, mark->now_ms) == 0;
    int removed = backend->outbox_remove(store->connection, mark->outbox_id);
    return recorded ? removed : -1;
}

int store_part_sent(struct store *store, int64_t outbox_id, int64_t reference, int64_t chat_id,
                    int64_t message_id, int64_t now_ms)
{
    if (store == NULL)
        return -1;
    struct sent_mark mine = {.outbox_id = outbox_id,
                             .reference = reference,
                             .chat_id = chat_id,
                             .message_id = message_id,
                             .now_ms = now_ms,
                             .result = -1};
    const struct store_backend *backend = store->backend;
    if (!backend->local_commits) {
        store_lock_for_write(store);
        mine.result = write_mark(store, &mine);
        pthread_mutex_unlock(&store->mutex);
        return mine.result;
    }
    push_mark(store, &mine);
    store_lock_for_write(store);
    struct sent_mark *batch = atomic_exchange(&store->marks, NULL);
    if (store->in_transaction) {
        /* this thread's own open transaction may yet roll back: only its
         * own mark goes into it; the others' owners commit theirs */
        for (struct sent_mark *mark = batch, *next; mark != NULL; mark = next) {
            next = mark->next;
            if (mark != &mine)
                push_mark(store, mark);
        }
        mine.result = write_mark(store, &mine);
    } else if (batch != NULL) {
        int together = backend->begin(store->connection, STORE_UNSYNCED) == 0;
        for (struct sent_mark *mark = batch; mark != NULL; mark = mark->next)
            mark->result = write_mark(store, mark);
        if (together && backend->commit(store->connection) != 0)
            for (struct sent_mark *mark = batch; mark != NULL; mark = mark->next)
                mark->result = -1; /* rolled back: the rows stay, the parts go again */
    }
    pthread_mutex_unlock(&store->mutex);
    return mine.result;
}

int store_sent_lookup(struct store *store, int64_t reference, int64_t *message_id)
{
    if (store == NULL || message_id == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    int result = store->backend->sent_lookup(store->connection, reference, message_id);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

static long count(struct store *store, long (*counter)(void *connection))
{
    if (store == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    long rows = counter(store->connection);
    pthread_mutex_unlock(&store->mutex);
    return rows;
}

long store_inbox_count(struct store *store)
{
    return store == NULL ? -1 : count(store, store->backend->inbox_count);
}

long store_outbox_count(struct store *store)
{
    if (store == NULL)
        return -1;
    /* a count only reads: the rows the sent journal marks and no commit has
     * folded in yet are left out by their number (each mark is of a row
     * that is there: the marks of a past run are folded at the open) */
    pthread_mutex_lock(&store->mutex);
    long rows = count(store, store->backend->outbox_count);
    long marked = (long)store_journal_pending(store);
    pthread_mutex_unlock(&store->mutex);
    return rows < 0 ? rows : rows > marked ? rows - marked : 0;
}

int store_claims_renew(struct store *store)
{
    if (store == NULL)
        return -1;
    if (store->backend->claims_renew == NULL)
        return 0;
    store_lock_for_write(store);
    int result = store->backend->claims_renew(store->connection);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_inbox_claim_stale(struct store *store, int64_t first_arrival, size_t limit,
                            store_inbox_visit visit, void *context)
{
    if (store == NULL || visit == NULL)
        return -1;
    if (store->backend->inbox_claim_stale == NULL)
        return 0;
    store_lock_for_write(store);
    int result =
        store->backend->inbox_claim_stale(store->connection, first_arrival, limit, visit, context);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_outbox_claim_stale(struct store *store, store_outbox_visit visit, void *context)
{
    if (store == NULL || visit == NULL)
        return -1;
    if (store->backend->outbox_claim_stale == NULL)
        return 0;
    store_lock_for_write(store);
    int result = store->backend->outbox_claim_stale(store->connection, visit, context);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_lock_update(struct store *store, int64_t update_id)
{
    if (store == NULL)
        return -1;
    if (store->backend->lock_update == NULL)
        return 0;
    store_lock_for_write(store);
    int result = store->backend->lock_update(store->connection, update_id);
    pthread_mutex_unlock(&store->mutex);
    return result;
}
