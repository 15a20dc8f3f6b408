/* A strict JSON reader that builds a jansson tree of only what a caller
 * reads: every byte is checked as jansson checks it (so a value jansson
 * refuses is refused here too), but of the nested objects only those a rule
 * names are built; the others, and every array, stand in the tree as a JSON
 * null (their member is there, their content is not). Scalars of a built
 * object are kept as they are. Building a tree costs allocations and
 * jansson's lexer ~200 instructions a byte; this reads a byte in a few. */
#ifndef JARVIS_JSON_PICK_H
#define JARVIS_JSON_PICK_H

#include <stddef.h>

#include <jansson.h>

/* jansson's JSON_PARSER_MAX_DEPTH: nesting beyond it is refused. */
#define JSON_PICK_MAX_DEPTH 2048

/* Which members of an object are built as objects: names[i] (NULL-ended)
 * with rules[i], the rule for that member's object. values: NULL keeps
 * every other member too (a scalar as it is, an object or array as null);
 * else only the members it names (NULL-ended) are kept besides names, and
 * the rest are checked and left out. */
struct json_pick_rule {
    const char *const *names;
    const struct json_pick_rule *const *rules;
    const char *const *values;
};

/* Reads the one JSON value starting at text (whitespace before it
 * skipped), at most length bytes. depth_above: the levels of nesting the
 * value sits in (it counts toward JSON_PICK_MAX_DEPTH). An object is built
 * by rule (NULL: its scalars only), an array is checked and returned empty.
 * Returns a new reference and sets *end to the index just past the value;
 * NULL when the value is not valid JSON, with a one-line reason in error
 * ("real number overflow at byte 14"). */
json_t *json_pick(const char *text, size_t length, const struct json_pick_rule *rule,
                  int depth_above, size_t *end, char *error, size_t error_size);

/* The same reading and checks, the value built as a pick_tree.h node in
 * arena (the same members, in order, duplicates kept: a lookup finds the
 * last, as in the jansson tree). NULL on invalid JSON or out of memory. */
struct pick_arena;
struct pick_node;
const struct pick_node *json_pick_nodes(const char *text, size_t length,
                                        const struct json_pick_rule *rule, int depth_above,
                                        size_t *end, struct pick_arena *arena, char *error,
                                        size_t error_size);

#endif
