/* A read-only JSON tree in an arena: what base/json_pick builds for the hot
 * path (a getUpdates batch), without a malloc and a hash table per object
 * as a jansson tree costs. Objects keep their members in order; a lookup
 * finds the last member of that name, as jansson keeps the last duplicate.
 * A jansson value converts to one too, borrowing its strings. */
#ifndef JARVIS_PICK_TREE_H
#define JARVIS_PICK_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum pick_type {
    PICK_NULL,
    PICK_TRUE,
    PICK_FALSE,
    PICK_INTEGER,
    PICK_REAL,
    PICK_STRING,
    PICK_OBJECT,
    PICK_ARRAY
};

struct pick_node {
    enum pick_type type;
    const char *name; /* a member's name (NUL-terminated), NULL for an array element */
    size_t name_length;
    struct pick_node *next; /* the next member or element */
    int64_t integer;
    double real;
    const char *text; /* PICK_STRING: NUL-terminated, no NUL inside */
    size_t length;
    struct pick_node *first; /* PICK_OBJECT, PICK_ARRAY: the first member or element */
};

/* Memory handed out in order and given back all at once. */
struct pick_arena;
struct pick_arena *pick_arena_create(void);
void pick_arena_destroy(struct pick_arena *arena);
/* size bytes, aligned for any node; NULL when out of memory. */
void *pick_arena_alloc(struct pick_arena *arena, size_t size);

/* The last member of object called name, or NULL (also when object is not
 * an object). */
const struct pick_node *pick_get(const struct pick_node *object, const char *name);
/* 1 when node is there and of that type. */
int pick_is(const struct pick_node *node, enum pick_type type);

/* value as a tree in arena; its strings and names are borrowed from value,
 * so they live as long as it does. NULL when out of memory. */
const struct pick_node *pick_from_json(json_t *value, struct pick_arena *arena);

#endif
