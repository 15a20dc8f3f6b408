/* The PostgreSQL backend of the store (store_postgres*.c, libpq). */
#ifndef JARVIS_STORE_POSTGRES_H
#define JARVIS_STORE_POSTGRES_H

#include "state/store_backend.h"

extern const struct store_backend store_postgres_backend;

#endif
