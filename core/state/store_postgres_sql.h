/* The postgres backend's prepared statements: their names (an enum) and SQL
 * (store_postgres_sql.c), prepared once per connection. */
#ifndef JARVIS_STORE_POSTGRES_SQL_H
#define JARVIS_STORE_POSTGRES_SQL_H

enum pg_statement {
    PG_KV_SET,
    PG_KV_GET,
    PG_KV_DELETE,
    PG_KV_DELETE_RANGE,
    PG_KV_LIST_RANGE,
    PG_KV_LIST_FROM,
    PG_INBOX_ADD,
    PG_INBOX_REMOVE,
    PG_INBOX_CRASH,
    PG_INBOX_LIST,
    PG_INBOX_GET,
    PG_INBOX_COUNT,
    PG_OUTBOX_ADD,
    PG_OUTBOX_REMOVE,
    PG_OUTBOX_LIST,
    PG_OUTBOX_COUNT,
    PG_SENT_RECORD,
    PG_SENT_LOOKUP,
    PG_SENT_PRUNE,
    PG_OWNER_RENEW,
    PG_INBOX_CLAIM,
    PG_OUTBOX_CLAIM,
    PG_UPDATE_LOCK,
    PG_STATEMENT_COUNT
};

struct pg_statement_text {
    const char *name; /* the prepared statement's name on the server */
    const char *sql;
    int parameters;
};

extern const struct pg_statement_text pg_statement_texts[PG_STATEMENT_COUNT];

#endif
