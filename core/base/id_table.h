/* A hash table of records keyed by a 64-bit id (a Telegram chat id): open
 * addressing with linear probing, so a lookup costs the same whatever the
 * number of records, and the slot array shrinks again as records leave. */
#ifndef JARVIS_ID_TABLE_H
#define JARVIS_ID_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* The table holds pointers to the caller's records; each record's first
 * member is its int64_t id, so a record pointer and a key pointer coincide. */
struct id_table {
    int64_t **slots;
    size_t capacity; /* a power of two, or 0 before the first insert */
    size_t count;
};

void id_table_init(struct id_table *table);
/* The record with this id, or NULL. */
void *id_table_find(const struct id_table *table, int64_t id);
/* Adds a record whose id is not in the table yet. 0, or -1 when out of memory
 * (the table is unchanged). */
int id_table_insert(struct id_table *table, int64_t *record);
/* Removes the record with this id, if any (the record itself is not freed). */
void id_table_remove(struct id_table *table, int64_t id);
/* Calls visit on every record; visit must not change the table. */
void id_table_each(const struct id_table *table, void (*visit)(void *record, void *context),
                   void *context);
/* Frees the slot array (not the records) and leaves the table empty. */
void id_table_clear(struct id_table *table);

#endif
