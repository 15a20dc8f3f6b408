/* A token's rating record as stored in the kv store ("rating/<SYMBOL>", JSON),
 * so cached ratings survive a restart. */
#ifndef GROK_RECORD_H
#define GROK_RECORD_H

#include <stddef.h>

#include "grok_refresh.h"

/* JSON text (free with free()), or NULL when out of memory. */
char *grok_record_encode(const struct grok_record *record);

/* 0 and *record filled from stored text; -1 when it is not a valid record. */
int grok_record_decode(const char *text, size_t length, struct grok_record *record);

#endif
