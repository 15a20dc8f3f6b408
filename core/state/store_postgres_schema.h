/* The postgres backend's schema: created on an empty database and migrated
 * forward, version by version, recorded in jarvis_schema_version. */
#ifndef JARVIS_STORE_POSTGRES_SCHEMA_H
#define JARVIS_STORE_POSTGRES_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The newest schema this jarvis knows. */
#define PG_SCHEMA_VERSION 2

/* Brings the database to PG_SCHEMA_VERSION in one transaction (hosts that
 * start together take turns on an advisory lock), each statement answered
 * within timeout_ms. 0, or -1 with the reason (the caller redacts it; after
 * a timeout the connection is unusable and only good for closing). *from
 * gets the version found. */
int pg_schema_migrate(PGconn *connection, int64_t timeout_ms, int *from, char *error,
                      size_t error_size);

#endif
