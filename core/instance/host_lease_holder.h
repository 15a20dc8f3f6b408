/* Who holds the database lock across hosts, as its lease row says: what
 * `jarvis status` shows and a standby announces (host_lease.h). */
#ifndef JARVIS_HOST_LEASE_HOLDER_H
#define JARVIS_HOST_LEASE_HOLDER_H

#include <stdint.h>

struct host_lease_holder {
    int backend_pid; /* the database session holding the lock; 0: nobody */
    int named;       /* the lease row names that session (else the fields below are 0) */
    char hostname[256];
    long pid;
    int64_t since_s;        /* unix time it took the lock */
    int64_t renewed_age_ms; /* since its last heartbeat, by the database's clock */
};

#endif
