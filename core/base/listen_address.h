/* [metrics] listen: "HOST:PORT" with an IPv4 literal, "[IPv6]" or
 * localhost, parsed without any name lookup, and whether it is loopback
 * (the only kind served unless allow_remote = true). */
#ifndef JARVIS_LISTEN_ADDRESS_H
#define JARVIS_LISTEN_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

struct listen_address {
    struct sockaddr_storage address;
    socklen_t length;
    int family; /* AF_INET or AF_INET6 */
    int loopback;
};

/* 0 and *result, or -1 with what is wrong in problem ("port must be
 * 1..65535"); the caller adds the file and line. */
int listen_address_parse(const char *text, struct listen_address *result, char *problem,
                         size_t problem_size);

#endif
