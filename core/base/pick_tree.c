/* The arena tree of pick_tree.h: a chain of blocks handed out in order,
 * member lookups by a walk of the (small) member list, and the conversion
 * of a jansson value. */
#include "base/pick_tree.h"

#include <stdlib.h>
#include <string.h>

/* Blocks grow from the first to the largest: one converted update (a
 * webhook's) takes a few hundred bytes, a getUpdates batch of 100 messages
 * about 60 KiB. */
#define FIRST_BLOCK_SIZE (4 * 1024)
#define LARGEST_BLOCK_SIZE (64 * 1024)
/* Deeper than anything read of an update (update, message, reply, sender):
 * a converted tree stops here, as json_pick leaves unread objects out. */
#define CONVERT_DEPTH_MAX 16

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char bytes[];
};

struct pick_arena {
    struct arena_block *blocks; /* the newest first */
    size_t next_size;           /* of the next block */
};

struct pick_arena *pick_arena_create(void)
{
    return calloc(1, sizeof(struct pick_arena));
}

void pick_arena_destroy(struct pick_arena *arena)
{
    if (arena == NULL)
        return;
    for (struct arena_block *block = arena->blocks, *next; block != NULL; block = next) {
        next = block->next;
        free(block);
    }
    free(arena);
}

void *pick_arena_alloc(struct pick_arena *arena, size_t size)
{
    if (arena == NULL || size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    struct arena_block *block = arena->blocks;
    if (block == NULL || block->size - block->used < size) {
        if (arena->next_size == 0)
            arena->next_size = FIRST_BLOCK_SIZE;
        size_t capacity = size > arena->next_size ? size : arena->next_size;
        if (arena->next_size < LARGEST_BLOCK_SIZE)
            arena->next_size *= 2;
        block = malloc(sizeof *block + capacity);
        if (block == NULL)
            return NULL;
        block->size = capacity;
        block->used = 0;
        block->next = arena->blocks;
        arena->blocks = block;
    }
    void *memory = block->bytes + block->used;
    block->used += size;
    return memory;
}

const struct pick_node *pick_get(const struct pick_node *object, const char *name)
{
    if (object == NULL || object->type != PICK_OBJECT || name == NULL)
        return NULL;
    size_t length = strlen(name);
    const struct pick_node *found = NULL;
    for (const struct pick_node *member = object->first; member != NULL; member = member->next)
        if (member->name_length == length && memcmp(member->name, name, length) == 0)
            found = member;
    return found;
}

int pick_is(const struct pick_node *node, enum pick_type type)
{
    return node != NULL && node->type == type;
}

static struct pick_node *convert(json_t *value, struct pick_arena *arena, int depth);

static int convert_members(json_t *object, struct pick_node *node, struct pick_arena *arena,
                           int depth)
{
    struct pick_node **tail = &node->first;
    const char *key;
    json_t *member;
    json_object_foreach(object, key, member)
    {
        struct pick_node *child = convert(member, arena, depth + 1);
        if (child == NULL)
            return -1;
        child->name = key;
        child->name_length = strlen(key);
        *tail = child;
        tail = &child->next;
    }
    return 0;
}

static struct pick_node *convert(json_t *value, struct pick_arena *arena, int depth)
{
    struct pick_node *node = pick_arena_alloc(arena, sizeof *node);
    if (node == NULL)
        return NULL;
    memset(node, 0, sizeof *node);
    switch (json_typeof(value)) {
        case JSON_OBJECT:
            if (depth >= CONVERT_DEPTH_MAX)
                break; /* stands as null, like an object json_pick leaves out */
            node->type = PICK_OBJECT;
            if (convert_members(value, node, arena, depth) != 0)
                return NULL;
            break;
        case JSON_ARRAY: node->type = PICK_ARRAY; break; /* its elements are never read */
        case JSON_STRING:
            node->type = PICK_STRING;
            node->text = json_string_value(value);
            node->length = json_string_length(value);
            break;
        case JSON_INTEGER:
            node->type = PICK_INTEGER;
            node->integer = json_integer_value(value);
            break;
        case JSON_REAL:
            node->type = PICK_REAL;
            node->real = json_real_value(value);
            break;
        case JSON_TRUE: node->type = PICK_TRUE; break;
        case JSON_FALSE: node->type = PICK_FALSE; break;
        case JSON_NULL: break;
    }
    return node;
}

const struct pick_node *pick_from_json(json_t *value, struct pick_arena *arena)
{
    if (value == NULL || arena == NULL)
        return NULL;
    return convert(value, arena, 0);
}
