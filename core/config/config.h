/* plugins.ini: parsed once with inih into this struct. Errors come back as
 * lines "FILE:LINE: what is wrong", every one found (up to a limit); the
 * caller exits 78 (EX_CONFIG). The keys of [bot], [lock] and [plugins] are
 * described by the table in config_schema.c. */
#ifndef JARVIS_CONFIG_H
#define JARVIS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/settings.h"

/* Fills *config with defaults, then the file, then makes every core path
 * absolute against the file's directory. Returns 0, or -1 with the errors in
 * error, one per line ("plugins.ini:12: workers must be an integer 1..64
 * (found 'x')"), as many whole lines as fit. Warnings (unknown keys, with a
 * did-you-mean; sections no enabled plugin reads) go to the log. */
int config_load(const char *path, struct config *config, char *error, size_t error_size);
#define CONFIG_ERROR_LIMIT 20

void config_free(struct config *config);

/* A plugin section's value, or NULL. Borrowed until config_free. */
const char *config_lookup(const struct config *config, const char *section, const char *key);
/* The line a plugin section key came from, 0 if absent (for error messages). */
int config_lookup_line(const struct config *config, const char *section, const char *key);
int config_is_admin(const struct config *config, int64_t user_id);

#endif
