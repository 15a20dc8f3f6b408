/* Parsing [metrics] listen. Names other than localhost are refused rather
 * than resolved: a lookup at start could pick an address the operator did
 * not mean, and the loopback check must be about the address bound. */
#include "base/listen_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 64

static int parse_port(const char *text, unsigned short *port)
{
    if (text[0] == '\0')
        return -1;
    for (const char *p = text; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    long value = strtol(text, NULL, 10);
    if (errno != 0 || value < 1 || value > 65535)
        return -1;
    *port = (unsigned short)value;
    return 0;
}

/* Splits "host:port" or "[v6]:port" into host and the port text. */
static int split_host_port(const char *text, char *host, const char **port_text)
{
    const char *colon;
    size_t host_length;
    const char *host_start = text;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        host_start = text + 1;
        host_length = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
            return -1; /* none, or a bare IPv6 address without brackets */
        host_length = (size_t)(colon - text);
    }
    if (host_length == 0 || host_length >= HOST_MAX)
        return -1;
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';
    *port_text = colon + 1;
    return 0;
}

static void set_ipv4(struct listen_address *result, struct in_addr address, unsigned short port)
{
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)&result->address;
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(port);
    ipv4->sin_addr = address;
    result->length = sizeof *ipv4;
    result->family = AF_INET;
    result->loopback = (ntohl(address.s_addr) >> 24) == 127;
}

static void set_ipv6(struct listen_address *result, struct in6_addr address, unsigned short port)
{
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&result->address;
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(port);
    ipv6->sin6_addr = address;
    result->length = sizeof *ipv6;
    result->family = AF_INET6;
    result->loopback = IN6_IS_ADDR_LOOPBACK(&address) ||
                       (IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127);
}

int listen_address_parse(const char *text, struct listen_address *result, char *problem,
                         size_t problem_size)
{
    char host[HOST_MAX];
    const char *port_text = NULL;
    unsigned short port = 0;
    memset(result, 0, sizeof *result);
    if (split_host_port(text, host, &port_text) != 0) {
        snprintf(problem, problem_size, "expected HOST:PORT such as 127.0.0.1:9464 or [::1]:9464");
        return -1;
    }
    if (parse_port(port_text, &port) != 0) {
        snprintf(problem, problem_size, "the port must be a number 1..65535");
        return -1;
    }
    struct in_addr ipv4;
    struct in6_addr ipv6;
    if (strcasecmp(host, "localhost") == 0) {
        ipv4.s_addr = htonl(INADDR_LOOPBACK);
        set_ipv4(result, ipv4, port);
    } else if (inet_pton(AF_INET, host, &ipv4) == 1) {
        set_ipv4(result, ipv4, port);
    } else if (text[0] == '[' && inet_pton(AF_INET6, host, &ipv6) == 1) {
        set_ipv6(result, ipv6, port);
    } else {
        snprintf(problem, problem_size,
                 "the host must be an IP address or localhost (names are not looked up)");
        return -1;
    }
    return 0;
}
