/* The store's handle, shared by its two front files (store.c,
 * store_pipeline.c): the backend and its connection, the mutex every call
 * holds, the transaction flag. */
#ifndef JARVIS_STORE_HANDLE_H
#define JARVIS_STORE_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "state/store_backend.h"

struct store {
    const struct store_backend *backend;
    void *connection;
    /* Recursive: a store_list visitor may call back into the store. */
    pthread_mutex_t mutex;
    int in_transaction;
    int available; /* the last answer of the backend's available(), atomic */
    /* Sent marks waiting for the mutex (store_part_sent): whoever holds it
     * next commits them all, so senders finishing together share a commit. */
    _Atomic(struct sent_mark *) marks;
    /* The open group commit (store_group.h): a transaction that no thread
     * holds between its units; any other commit ends it first. */
    int group_open;
    uint64_t group_number; /* the open group's, or the next one's */
    void (*group_ended)(uint64_t group, int result, void *context); /* store_group.h */
    void *group_ended_context;
    /* Marks of parts sent, not yet in the database (sent_journal.h);
     * NULL without one (PostgreSQL, or the file could not be made). */
    struct sent_journal *journal;
};

#endif
