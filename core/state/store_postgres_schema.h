/* The postgres backend's schema: created on an empty database and migrated
 * forward, version by version, recorded in jarvis_schema_version. */
#ifndef JARVIS_STORE_POSTGRES_SCHEMA_H
#define JARVIS_STORE_POSTGRES_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>

/* The newest schema this jarvis knows. */
#define PG_SCHEMA_VERSION 2

/* Brings the database to PG_SCHEMA_VERSION in one transaction (hosts that
 * start together take turns on an advisory lock). 0, or -1 with the
 * reason (the caller redacts it). *from gets the version found. */
int pg_schema_migrate(PGconn *connection, int *from, char *error, size_t error_size);

#endif
