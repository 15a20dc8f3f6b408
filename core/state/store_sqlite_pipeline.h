/* The SQLite backend's pipeline tables (inbox, outbox, sent_message): what
 * store_sqlite.c puts into the backend table and calls at open. */
#ifndef JARVIS_STORE_SQLITE_PIPELINE_H
#define JARVIS_STORE_SQLITE_PIPELINE_H

#include "state/store_sqlite_statements.h"
#include "state/store_types.h"

int sqlite_pipeline_create_tables(struct sqlite_store *store, char *error, size_t error_size);
int sqlite_pipeline_prepare(struct sqlite_store *store, char *error, size_t error_size);
void sqlite_pipeline_finalize(struct sqlite_store *store);

int sqlite_inbox_add(void *connection, int64_t update_id, int64_t chat_id, const char *payload,
                     int64_t arrival);
int sqlite_inbox_remove(void *connection, int64_t update_id);
int sqlite_inbox_count_crash(void *connection, int64_t update_id, const char *plugin);
int sqlite_inbox_list(void *connection, store_inbox_visit visit, void *context);
int sqlite_inbox_get(void *connection, const int64_t *update_ids, size_t count,
                     store_inbox_visit visit, void *context);
int64_t sqlite_outbox_add(void *connection, const struct outbox_row *row);
int sqlite_outbox_remove(void *connection, int64_t id);
int sqlite_outbox_remove_sent(void *connection, int64_t id, int64_t update_id, int64_t chat_id,
                              int64_t text_length);
int sqlite_outbox_list(void *connection, store_outbox_visit visit, void *context);
int sqlite_sent_record(void *connection, int64_t reference, int64_t chat_id, int64_t message_id,
                       int64_t now_ms);
int sqlite_sent_lookup(void *connection, int64_t reference, int64_t *message_id);
long sqlite_inbox_count(void *connection);
long sqlite_outbox_count(void *connection);

#endif
