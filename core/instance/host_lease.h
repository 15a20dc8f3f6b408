/* One poller across hosts when the state lives in PostgreSQL ([state]
 * backend = postgres): a session-level advisory lock keyed by the bot's id,
 * and a heartbeat lease that lets a standby end a holder that hangs. The
 * holder stops polling and sending once its lease may have run out. */
#ifndef JARVIS_HOST_LEASE_H
#define JARVIS_HOST_LEASE_H

struct config;
struct host_lease;
struct store;

/* With backend = postgres: connects (retrying while the database is away),
 * takes the lock or waits for it as a standby (ending a holder whose lease
 * ran out), then renews the lease on its own thread. *lease stays NULL with
 * another backend. 0, 74 (the database unreachable at the first try), 75
 * (a stop, or [lock] max_wait passed) or 78 (no or bad dsn), each failure
 * after one log line. */
int host_lease_acquire(const struct config *config, struct host_lease **lease);
/* 0 once another host took the lock (for good: the caller stands down,
 * exit 69), or the database refused a fenced commit, else 1; a NULL
 * lease: 1. The loss is logged once. */
int host_lease_still_held(struct host_lease *lease);
/* 1 while the lease is surely ours: no standby can have ended our session
 * (a NULL lease: always). 0 past its deadline (this process stalled, the
 * database away): no polling or sending until a renewal, or the renewer's
 * retake after the database came back, makes it 1 again. An atomic read,
 * safe on any thread: asked before and after each getUpdates and before
 * each send. One log line per change. */
int host_lease_valid(struct host_lease *lease);
/* From now on the store's pipeline commits (inbox batch and offset,
 * handled commits, outbox marks) check in their own transaction that the
 * lease row still names this tenure (its generation) and are refused
 * otherwise; a refusal makes host_lease_still_held 0. NULL lease: nothing. */
void host_lease_fence_store(struct host_lease *lease, struct store *store);
/* Ends the session (and so the lock) and frees. NULL is fine. */
void host_lease_release(struct host_lease *lease);

#endif
