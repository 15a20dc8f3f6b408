/* Whether libcurl, reading the proxy variables of the environment as it
 * does when a transfer sets no proxy, would send a plain-http request for a
 * host through an HTTP proxy. A CONNECT_ONLY connection then reaches the
 * proxy, not the host, so a hand-written request would go to the wrong peer. */
#ifndef JARVIS_PROXY_ENVIRONMENT_H
#define JARVIS_PROXY_ENVIRONMENT_H

/* host as in the URL (an IPv6 address with or without brackets). 1 also when
 * unsure (a no_proxy entry this does not read, such as a CIDR range): the
 * caller then takes libcurl's own path, which is only slower. */
int proxy_environment_forwards_http(const char *host);

#endif
