/* The running bot's report for `jarvis status`: version, start time,
 * plugins with versions, the counters since start and the last problems,
 * written as JSON into <state_dir>/status.json (at most once a second, by
 * operations.c) and read by status.c, which must never create anything. */
#ifndef JARVIS_STATUS_SNAPSHOT_H
#define JARVIS_STATUS_SNAPSHOT_H

#include <stdint.h>

#include <jansson.h>

struct host;

#define STATUS_SNAPSHOT_FILE "status.json"

/* Writes atomically (a temporary file renamed over the old one, 0600).
 * started_ms: wall-clock ms when this process took over. last_written
 * (may be NULL) keeps the text of the last write: a snapshot that says the
 * same, while the file is still there, is not written again (an idle bot
 * then writes nothing). 0 or -1. */
int status_snapshot_write(struct host *host, int64_t started_ms, char **last_written);

/* The snapshot in state_dir, or NULL when there is none or it is unreadable
 * (*problem then says which, "" when simply absent). */
json_t *status_snapshot_read(const char *state_dir, char *problem, size_t problem_size);

#endif
