/* `jarvis status`: who holds the lock, whether it polls, its last poll and
 * last error, the queues, and from the running bot's snapshot its version,
 * uptime, plugins, counters and last problems. The Telegram transport writes the keys below into the store
 * (space "core"); status only reads them. */
#ifndef JARVIS_STATUS_H
#define JARVIS_STATUS_H

#include <stdio.h>

struct config;

#define STATUS_SPACE "core"
#define STATUS_KEY_POLLING "status.polling"           /* "1" while polling, "0" stopped */
#define STATUS_KEY_LAST_POLL_OK "status.last_poll_ok_ms" /* decimal unix ms */
#define STATUS_KEY_LAST_ERROR "status.last_error"     /* "<unix ms> <one line>" */

/* Prints the report to out: "name: value" lines, or with json one JSON
 * object on one line. Returns 0 when a holder is running, 3 when none
 * (LSB), 1 when the lock file can't be read. */
int status_run(const struct config *config, int json, FILE *out);

#endif
