/* `jarvis status`: who holds the lock, whether it polls, its last poll and
 * last error, the queues, and from the running bot's snapshot its version,
 * uptime, plugins, counters and last problems. The transport writes the
 * poll status under base/core_keys.h's keys; status only reads them. */
#ifndef JARVIS_STATUS_H
#define JARVIS_STATUS_H

#include <stdio.h>

struct config;

/* Prints the report to out: "name: value" lines, or with json one JSON
 * object on one line. Returns 0 when a holder is running, 3 when none
 * (LSB), 1 when the lock file can't be read. */
int status_run(const struct config *config, int json, FILE *out);

#endif
