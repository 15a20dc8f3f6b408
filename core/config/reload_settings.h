/* Which settings a reload applies: plugin sections and [plugins] enable and
 * dir reach the plugins; [bot] log_level, admins, handler_budget_ms and
 * shutdown_grace_ms change live; every other [bot] and [lock] setting is
 * carried over from the running configuration and reported as needing a
 * restart (the transport, lock and worker pool were built from it). */
#ifndef JARVIS_RELOAD_SETTINGS_H
#define JARVIS_RELOAD_SETTINGS_H

#include <stddef.h>

struct config;

/* Logs one line per restart-only setting that differs, then gives
 * adopted those settings' running values. Returns how many differed, or
 * -1 out of memory (adopted is then unusable). */
int reload_settings_carry_over(const struct config *running, struct config *adopted);
/* Whether plugin section name has other keys or values in the two. */
int reload_section_changed(const struct config *running, const struct config *adopted,
                           const char *name);
/* "log_level info -> debug, handler_budget_ms 10000 -> 500" for the live
 * settings that differ, into text ("" when none). */
void reload_settings_describe_live(const struct config *running, const struct config *adopted,
                                   char *text, size_t text_size);

#endif
