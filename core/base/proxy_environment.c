/* libcurl 7.88's reading of the proxy environment for http:// URLs
 * (proxy_environment.h): http_proxy (never HTTP_PROXY, which a CGI client
 * could set), else all_proxy or ALL_PROXY; no_proxy or NO_PROXY exempts. */
#include "base/proxy_environment.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A lower-case variable first, as libcurl reads them. */
static const char *variable(const char *lower, const char *upper)
{
    const char *value = getenv(lower);
    if (value == NULL && upper != NULL)
        value = getenv(upper);
    return value;
}

static int is_socks(const char *proxy)
{
    return strncasecmp(proxy, "socks", 5) == 0 && strstr(proxy, "://") != NULL;
}

/* One no_proxy entry against the host: a name matches itself and its
 * subdomains (a leading dot is the same entry); anything else must be the
 * same text. A CIDR range or wildcard in a list is not read: no match. */
static int entry_matches(const char *entry, size_t entry_length, const char *host,
                         size_t host_length)
{
    if (entry_length > 0 && entry[0] == '.')
        entry++, entry_length--;
    if (entry_length == 0 || memchr(entry, '/', entry_length) != NULL)
        return 0;
    if (entry_length == host_length)
        return strncasecmp(entry, host, host_length) == 0;
    if (entry_length > host_length)
        return 0;
    const char *tail = host + host_length - entry_length;
    return tail[-1] == '.' && strncasecmp(entry, tail, entry_length) == 0;
}

static int exempted(const char *no_proxy, const char *host, size_t host_length)
{
    if (no_proxy == NULL)
        return 0;
    if (strcmp(no_proxy, "*") == 0)
        return 1;
    for (const char *at = no_proxy; *at != '\0';) {
        at += strspn(at, ", \t");
        size_t length = strcspn(at, ", \t");
        if (length > 0 && entry_matches(at, length, host, host_length))
            return 1;
        at += length;
    }
    return 0;
}

int proxy_environment_forwards_http(const char *host)
{
    size_t host_length = strlen(host);
    if (host_length >= 2 && host[0] == '[' && host[host_length - 1] == ']')
        host++, host_length -= 2;
    if (host_length > 0 && host[host_length - 1] == '.')
        host_length--;
    if (exempted(variable("no_proxy", "NO_PROXY"), host, host_length))
        return 0;
    const char *proxy = variable("http_proxy", NULL);
    if (proxy == NULL || proxy[0] == '\0')
        proxy = variable("all_proxy", "ALL_PROXY");
    if (proxy == NULL || proxy[0] == '\0')
        return 0;
    /* a SOCKS proxy carries the bytes as they are, as a tunnel would */
    return !is_socks(proxy);
}
