/* A growable array of pointers: the registry's tables of plugins, commands,
 * handlers, jobs, services and dependency edges. */
#ifndef JARVIS_POINTER_LIST_H
#define JARVIS_POINTER_LIST_H

#include <stddef.h>

struct pointer_list {
    void **items;
    size_t count;
    size_t capacity;
};

/* Both return 0, or -1 out of memory with the list unchanged. */
int pointer_list_append(struct pointer_list *list, void *item);
/* index <= count; later items move up one. */
int pointer_list_insert(struct pointer_list *list, size_t index, void *item);
/* index < count; later items move down one. */
void pointer_list_remove_at(struct pointer_list *list, size_t index);

#endif
