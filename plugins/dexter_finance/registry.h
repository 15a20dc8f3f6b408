/* The token.registry service as dexter_finance provides it: its token map
 * (the built-in default plus `tokens` from plugins.ini) seen through the
 * contract in <jarvis/svc/token_registry.h>, and the near-miss suggestion
 * dexter's own "did you mean" uses. */
#ifndef DEXTER_REGISTRY_H
#define DEXTER_REGISTRY_H

#include <jarvis/svc/token_registry.h>

#include "token_map.h"

/* The vtable for map; map must stay valid and unchanged while it is provided. */
void dexter_registry_init(jv_token_registry_api *vtable, const dexter_token_map *map);

/* The token closest to a near miss (rules in token_registry.h), or NULL. */
const dexter_token *dexter_registry_suggest(const dexter_token_map *map, const char *text);

#endif
