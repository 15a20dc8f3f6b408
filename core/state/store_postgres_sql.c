/* The SQL of the postgres backend. Space, key and value of the key-value
 * table are bytea: compared bytewise like SQLite's BINARY keys (so prefix
 * ranges and 0xFF bounds work whatever the database's encoding), and any
 * byte may be stored. Parameters and results travel in binary format. */
#include "state/store_postgres_sql.h"

const struct pg_statement_text pg_statement_texts[PG_STATEMENT_COUNT] = {
    [PG_KV_SET] = {"jarvis_kv_set",
                   "INSERT INTO jarvis_kv (space, key, value) VALUES ($1, $2, $3)"
                   " ON CONFLICT (space, key) DO UPDATE SET value = excluded.value",
                   3},
    [PG_KV_GET] = {"jarvis_kv_get", "SELECT value FROM jarvis_kv WHERE space = $1 AND key = $2", 2},
    [PG_KV_DELETE] = {"jarvis_kv_delete", "DELETE FROM jarvis_kv WHERE space = $1 AND key = $2", 2},
    [PG_KV_DELETE_RANGE] = {"jarvis_kv_delete_range",
                            "DELETE FROM jarvis_kv WHERE space = $1 AND key >= $2 AND key < $3", 3},
    [PG_KV_LIST_RANGE] = {"jarvis_kv_list_range",
                          "SELECT key, value FROM jarvis_kv WHERE space = $1"
                          " AND key >= $2 AND key < $3 ORDER BY key",
                          3},
    [PG_KV_LIST_FROM] = {"jarvis_kv_list_from",
                         "SELECT key, value FROM jarvis_kv WHERE space = $1"
                         " AND key >= $2 ORDER BY key",
                         2},
    [PG_INBOX_ADD] = {"jarvis_inbox_add",
                      "INSERT INTO jarvis_inbox (update_id, chat_id, payload, arrival)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT (update_id) DO NOTHING",
                      4},
    [PG_INBOX_REMOVE] = {"jarvis_inbox_remove", "DELETE FROM jarvis_inbox WHERE update_id = $1", 1},
    [PG_INBOX_CRASH] = {"jarvis_inbox_crash",
                        "UPDATE jarvis_inbox SET crashes = crashes + 1, crash_plugin = $2"
                        " WHERE update_id = $1",
                        2},
    [PG_INBOX_LIST] = {"jarvis_inbox_list",
                       "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival"
                       " FROM jarvis_inbox ORDER BY arrival, update_id",
                       0},
    [PG_INBOX_LIST_CHAT] = {"jarvis_inbox_list_chat",
                            "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival"
                            " FROM jarvis_inbox WHERE chat_id = $1 AND arrival > $2"
                            " ORDER BY arrival, update_id LIMIT $3",
                            3},
    [PG_INBOX_COUNT] = {"jarvis_inbox_count", "SELECT count(*) FROM jarvis_inbox", 0},
    [PG_OUTBOX_ADD] = {"jarvis_outbox_add",
                       "INSERT INTO jarvis_outbox (update_id, chat_id, thread_id, text, method,"
                       " options, file, file_name, reference, target)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                       10},
    [PG_OUTBOX_REMOVE] = {"jarvis_outbox_remove", "DELETE FROM jarvis_outbox WHERE id = $1", 1},
    [PG_OUTBOX_LIST] = {"jarvis_outbox_list",
                        "SELECT id, update_id, chat_id, thread_id, text, method, options, file,"
                        " file_name, reference, target FROM jarvis_outbox ORDER BY id",
                        0},
    [PG_OUTBOX_COUNT] = {"jarvis_outbox_count", "SELECT count(*) FROM jarvis_outbox", 0},
    [PG_SENT_RECORD] = {"jarvis_sent_record",
                        "INSERT INTO jarvis_sent_message (reference, chat_id, message_id, sent_at)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (reference) DO UPDATE SET"
                        " chat_id = excluded.chat_id, message_id = excluded.message_id,"
                        " sent_at = excluded.sent_at",
                        4},
    [PG_SENT_LOOKUP] = {"jarvis_sent_lookup",
                        "SELECT message_id FROM jarvis_sent_message WHERE reference = $1", 1},
    [PG_SENT_PRUNE] = {"jarvis_sent_prune", "DELETE FROM jarvis_sent_message WHERE sent_at < $1",
                       1},
};
