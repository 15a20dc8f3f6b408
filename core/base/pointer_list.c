/* The growable pointer array behind the registry's tables; order is kept
 * because it carries meaning (load order, handler run order). */
#include "base/pointer_list.h"

#include <stdlib.h>
#include <string.h>

int pointer_list_append(struct pointer_list *list, void *item)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        void **items = realloc(list->items, capacity * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = item;
    return 0;
}

int pointer_list_insert(struct pointer_list *list, size_t index, void *item)
{
    if (pointer_list_append(list, item) != 0)
        return -1;
    memmove(&list->items[index + 1], &list->items[index],
            (list->count - 1 - index) * sizeof *list->items);
    list->items[index] = item;
    return 0;
}

void pointer_list_remove_at(struct pointer_list *list, size_t index)
{
    memmove(&list->items[index], &list->items[index + 1],
            (list->count - 1 - index) * sizeof *list->items);
    list->count--;
}
