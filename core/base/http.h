/* One libcurl wrapper for the core and for plugins (through the host API):
 * whole-request timeouts, Retry-After parsing, and error texts that never
 * carry a URL's path or query (where tokens and keys live). */
#ifndef JARVIS_HTTP_H
#define JARVIS_HTTP_H

#include <jarvis/plugin.h>

/* Once, in main, before threads start. */
int http_global_init(void);
void http_global_cleanup(void);

/* Same contract as jv_host_api.http_request. Thread-safe (a handle per call). */
int http_perform(const jv_http_request *request, jv_http_response *response);
void http_response_release(jv_http_response *response);

#endif
