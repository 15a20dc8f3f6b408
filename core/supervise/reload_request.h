/* `jarvis reload`: asks the running holder of the lock to reload (SIGHUP). */
#ifndef JARVIS_RELOAD_REQUEST_H
#define JARVIS_RELOAD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

struct config;

/* `jarvis reload`: SIGHUP to the holder of the lock config names. Returns
 * 0 when sent, 3 when no holder runs (LSB), 1 when the lock file cannot
 * be read or the holder's pid is unknown. One line on out. */
int reload_request(const struct config *config, FILE *out);

#endif
