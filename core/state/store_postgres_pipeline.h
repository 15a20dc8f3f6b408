/* The postgres backend's pipeline tables (jarvis_inbox, jarvis_outbox,
 * jarvis_sent_message): what store_postgres.c puts into the backend table. */
#ifndef JARVIS_STORE_POSTGRES_PIPELINE_H
#define JARVIS_STORE_POSTGRES_PIPELINE_H

#include "state/store_types.h"

int pg_inbox_add(void *connection, int64_t update_id, int64_t chat_id, const char *payload,
                 int64_t arrival);
int pg_inbox_remove(void *connection, int64_t update_id);
int pg_inbox_count_crash(void *connection, int64_t update_id, const char *plugin);
int pg_inbox_list(void *connection, store_inbox_visit visit, void *context);
int pg_inbox_get(void *connection, const int64_t *update_ids, size_t count, store_inbox_visit visit,
                 void *context);
int64_t pg_outbox_add(void *connection, const struct outbox_row *row);
int pg_outbox_remove(void *connection, int64_t id);
int pg_outbox_list(void *connection, store_outbox_visit visit, void *context);
int pg_sent_record(void *connection, int64_t reference, int64_t chat_id, int64_t message_id,
                   int64_t now_ms);
int pg_sent_lookup(void *connection, int64_t reference, int64_t *message_id);
long pg_inbox_count(void *connection);
long pg_outbox_count(void *connection);
int pg_claims_renew(void *connection);
int pg_inbox_claim_stale(void *connection, int64_t first_arrival, size_t limit,
                         store_inbox_visit visit, void *context);
int pg_outbox_claim_stale(void *connection, store_outbox_visit visit, void *context);
int pg_lock_update(void *connection, int64_t update_id);

#endif
