/* What an operator watches while the bot runs: the metrics registry's
 * start, the /metrics server when [metrics] listen is set, and a thread that
 * once a second refreshes the queue gauges and writes the status snapshot. */
#ifndef JARVIS_OPERATIONS_H
#define JARVIS_OPERATIONS_H

struct host;
struct operations;

/* After the plugins are loaded (host->store and host->registry set). Never
 * fails the bot: what cannot start is logged. NULL only when out of memory. */
struct operations *operations_start(struct host *host);
/* Writes a last snapshot and stops the thread and the server. NULL is fine. */
void operations_stop(struct operations *operations);

#endif
