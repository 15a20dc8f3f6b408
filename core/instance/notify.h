/* systemd's notify protocol without libsystemd: datagrams to $NOTIFY_SOCKET.
 * Every function is a no-op when the variable is unset. */
#ifndef JARVIS_NOTIFY_H
#define JARVIS_NOTIFY_H

#include <stdint.h>

/* "READY=1": call once the lock is held and the transport is up. */
void notify_ready(void);
/* "STATUS=..." free text, e.g. "waiting for lock held by pid 42". */
void notify_status(const char *text);
/* "EXTEND_TIMEOUT_USEC=..." while waiting for the lock. */
void notify_extend_timeout(uint64_t microseconds);
/* "WATCHDOG=1", sent at most every $WATCHDOG_USEC/2; call it from the poll
 * loop as often as you like, so it proves the loop makes progress. */
void notify_watchdog(void);
/* "STOPPING=1" on SIGTERM. */
void notify_stopping(void);
/* Sleeps up to ms, sending the watchdog its keepalive each second, so a
 * long wait (a retry_after of hours) is no hang to systemd. Returns 1 when
 * a stop request cut it short, 0 when the time was up. */
int notify_sleep(int64_t ms);

#endif
