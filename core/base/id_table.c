/* The open-addressing table of id_table.h. Deletion shifts the following
 * cluster back instead of leaving tombstones, so lookups never slow down on a
 * table that has seen many ids come and go (a sender's chats do exactly that). */
#include "base/id_table.h"

#include <stdlib.h>

#define MINIMUM_CAPACITY 16

void id_table_init(struct id_table *table)
{
    table->slots = NULL;
    table->capacity = 0;
    table->count = 0;
}

/* splitmix64's finaliser: chat ids are clustered (negative group ids, nearby
 * user ids), so the low bits alone would probe badly. Unsigned, so extreme
 * ids cannot overflow. */
static size_t home_slot(int64_t id, size_t capacity)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (size_t)(x & (capacity - 1));
}

static size_t find_slot(const struct id_table *table, int64_t id)
{
    size_t mask = table->capacity - 1;
    size_t slot = home_slot(id, table->capacity);
    while (table->slots[slot] != NULL && *table->slots[slot] != id)
        slot = (slot + 1) & mask;
    return slot;
}

void *id_table_find(const struct id_table *table, int64_t id)
{
    if (table->count == 0)
        return NULL;
    return table->slots[find_slot(table, id)];
}

static int resize(struct id_table *table, size_t capacity)
{
    int64_t **slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return -1;
    struct id_table grown = {.slots = slots, .capacity = capacity, .count = table->count};
    for (size_t i = 0; i < table->capacity; i++)
        if (table->slots[i] != NULL)
            slots[find_slot(&grown, *table->slots[i])] = table->slots[i];
    free(table->slots);
    *table = grown;
    return 0;
}

int id_table_insert(struct id_table *table, int64_t *record)
{
    /* at most half full: short probe sequences */
    if ((table->count + 1) * 2 > table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : MINIMUM_CAPACITY;
        if (resize(table, capacity) != 0)
            return -1;
    }
    table->slots[find_slot(table, *record)] = record;
    table->count++;
    return 0;
}

/* Moves each later member of the cluster into the hole when its home slot
 * does not lie (cyclically) between the hole and its current slot. */
static void close_hole(struct id_table *table, size_t hole)
{
    size_t mask = table->capacity - 1;
    size_t slot = hole;
    for (;;) {
        slot = (slot + 1) & mask;
        if (table->slots[slot] == NULL)
            break;
        size_t home = home_slot(*table->slots[slot], table->capacity);
        int stays = hole <= slot ? (hole < home && home <= slot) : (hole < home || home <= slot);
        if (stays)
            continue;
        table->slots[hole] = table->slots[slot];
        table->slots[slot] = NULL;
        hole = slot;
    }
}

void id_table_remove(struct id_table *table, int64_t id)
{
    if (table->count == 0)
        return;
    size_t slot = find_slot(table, id);
    if (table->slots[slot] == NULL)
        return;
    table->slots[slot] = NULL;
    table->count--;
    close_hole(table, slot);
    /* an eighth full: give the memory back (a failed shrink changes nothing) */
    if (table->capacity > MINIMUM_CAPACITY && table->count * 8 < table->capacity)
        resize(table, table->capacity / 2);
}

void id_table_each(const struct id_table *table, void (*visit)(void *record, void *context),
                   void *context)
{
    for (size_t i = 0; i < table->capacity; i++)
        if (table->slots[i] != NULL)
            visit(table->slots[i], context);
}

void id_table_clear(struct id_table *table)
{
    free(table->slots);
    id_table_init(table);
}
