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
                      "INSERT INTO jarvis_inbox (update_id, chat_id, payload, arrival, owner)"
                      " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (update_id) DO NOTHING",
                      5},
    [PG_INBOX_REMOVE] =
        {"jarvis_inbox_remove",
         "DELETE FROM jarvis_inbox WHERE update_id = $1 AND ($2 = '' OR owner = $2)", 2},
    [PG_INBOX_CRASH] = {"jarvis_inbox_crash",
                        "UPDATE jarvis_inbox SET crashes = crashes + 1, crash_plugin = $2"
                        " WHERE update_id = $1",
                        2},
    [PG_INBOX_LIST] = {"jarvis_inbox_list",
                       "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival"
                       " FROM jarvis_inbox WHERE $1 = '' OR owner = $1 ORDER BY arrival, update_id",
                       1},
    [PG_INBOX_GET] = {"jarvis_inbox_get",
                      "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival"
                      " FROM jarvis_inbox JOIN unnest($1::bigint[]) WITH ORDINALITY"
                      " AS wanted (id, position) ON update_id = wanted.id"
                      " WHERE $2 = '' OR owner = $2 ORDER BY wanted.position",
                      2},
    [PG_INBOX_COUNT] = {"jarvis_inbox_count", "SELECT count(*) FROM jarvis_inbox", 0},
    [PG_OUTBOX_ADD] = {"jarvis_outbox_add",
                       "INSERT INTO jarvis_outbox (update_id, chat_id, thread_id, text, method,"
                       " options, file, file_name, reference, target, owner)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                       11},
    [PG_OUTBOX_REMOVE] = {"jarvis_outbox_remove", "DELETE FROM jarvis_outbox WHERE id = $1", 1},
    [PG_OUTBOX_LIST] = {"jarvis_outbox_list",
                        "SELECT id, update_id, chat_id, thread_id, text, method, options, file,"
                        " file_name, reference, target FROM jarvis_outbox"
                        " WHERE $1 = '' OR owner = $1 ORDER BY id",
                        1},
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
    /* the database's clock for every host: no skew between them counts */
    [PG_OWNER_RENEW] = {"jarvis_owner_renew",
                        "WITH before AS (SELECT alive_until FROM jarvis_owner WHERE owner = $1)"
                        " INSERT INTO jarvis_owner (owner, alive_until)"
                        " VALUES ($1, now() + ($2::bigint)::float8 * interval '1 millisecond')"
                        " ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until"
                        " RETURNING coalesce((SELECT alive_until < now() FROM before), false)",
                        2},
    /* Rows of an owner that stopped renewing (or of none: a polling
     * holder's) become $1's, the inbox's with arrivals from $2 up, in their
     * order, so this host's admission takes them after what it holds.
     * SKIP LOCKED: two hosts taking over at once take each row once. */
    [PG_INBOX_CLAIM] =
        {"jarvis_inbox_claim",
         "WITH stale AS (SELECT update_id, arrival FROM jarvis_inbox i"
         " WHERE i.owner <> $1 AND NOT EXISTS (SELECT 1 FROM jarvis_owner o"
         " WHERE o.owner = i.owner AND o.alive_until > now())"
         " ORDER BY arrival, update_id LIMIT $3 FOR UPDATE SKIP LOCKED),"
         " ranked AS (SELECT update_id, row_number() OVER"
         " (ORDER BY arrival, update_id) AS place FROM stale),"
         " claimed AS (UPDATE jarvis_inbox SET owner = $1, arrival = $2 + ranked.place"
         " FROM ranked WHERE jarvis_inbox.update_id = ranked.update_id"
         " RETURNING jarvis_inbox.update_id, chat_id, payload, crashes,"
         " crash_plugin, arrival)"
         " SELECT * FROM claimed ORDER BY arrival",
         3},
    [PG_OUTBOX_CLAIM] = {"jarvis_outbox_claim",
                         "WITH claimed AS (UPDATE jarvis_outbox SET owner = $1 WHERE id IN"
                         " (SELECT id FROM jarvis_outbox b WHERE b.owner <> $1 AND NOT EXISTS"
                         " (SELECT 1 FROM jarvis_owner o WHERE o.owner = b.owner"
                         " AND o.alive_until > now()) FOR UPDATE SKIP LOCKED)"
                         " RETURNING id, update_id, chat_id, thread_id, text, method, options,"
                         " file, file_name, reference, target)"
                         " SELECT * FROM claimed ORDER BY id",
                         1},
    /* One update_id's acceptance at a time across hosts ('jarw', its low
     * bits: a collision only serialises two acceptances): a retry on
     * another host then sees the first one's seen record. */
    [PG_UPDATE_LOCK] = {"jarvis_update_lock",
                        "SELECT pg_advisory_xact_lock(1784772215,"
                        " ($1::bigint & 2147483647)::integer)",
                        1},
};
