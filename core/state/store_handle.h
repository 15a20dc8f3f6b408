/* The store's handle, shared by its two front files (store.c,
 * store_pipeline.c): the backend and its connection, the mutex every call
 * holds, the transaction flag. */
#ifndef JARVIS_STORE_HANDLE_H
#define JARVIS_STORE_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "state/store_backend.h"
#include "state/store_group.h"

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
    store_group_ended_fn group_ended;
    void *group_ended_context;
};

/* Takes the mutex for a write: outside a transaction the write commits on
 * its own, so an open group commits first (its units stay in order, and
 * the write is durable when it returns, as store.h says). */
void store_lock_for_write(struct store *store);
/* With the mutex held: commits the open group, if any; 0 or -1. */
int store_group_end(struct store *store);

#endif
