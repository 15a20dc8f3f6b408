/* The common options of a jarvis transfer (curl_setup.h). */
#include "base/curl_setup.h"

void curl_setup_transfer(CURL *easy, struct byte_buffer *body, char *error_buffer)
{
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->limit);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "jarvis/1");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, byte_buffer_curl_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
}
