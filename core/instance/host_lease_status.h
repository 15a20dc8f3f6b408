/* For `jarvis status`: who holds the database lock across hosts, asked
 * on a short connection of its own (host_lease_status.c). */
#ifndef JARVIS_HOST_LEASE_STATUS_H
#define JARVIS_HOST_LEASE_STATUS_H

#include <stddef.h>

#include "instance/host_lease_holder.h"

struct config;

/* For `jarvis status`: 1 held (*holder filled), 0 nobody holds it, -1 the
 * database cannot be asked (why in problem, without the password). */
int host_lease_query(const struct config *config, struct host_lease_holder *holder, char *problem,
                     size_t problem_size);

#endif
