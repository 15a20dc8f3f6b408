/* The options every libcurl transfer of jarvis starts from, for the plugins'
 * HTTP client (http.c) and the Bot API client alike: no signals (transfers
 * run on many threads), http and https only, redirects not followed, a
 * body limit refused at the headers when the length is announced, the
 * error text into a buffer and the body into a byte_buffer. */
#ifndef JARVIS_CURL_SETUP_H
#define JARVIS_CURL_SETUP_H

#include <stddef.h>

#include <curl/curl.h>

#include "base/byte_buffer.h"

/* body->limit is the body limit; error_buffer holds CURL_ERROR_SIZE bytes.
 * The caller sets the URL, the method and body, headers and timeouts. */
void curl_setup_transfer(CURL *easy, struct byte_buffer *body, char *error_buffer);

#endif
