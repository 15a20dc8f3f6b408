/* A growable byte buffer with a size cap, kept NUL-terminated so a body can
 * be handed on as text; libcurl write callbacks collect responses into it. */
#ifndef JARVIS_BYTE_BUFFER_H
#define JARVIS_BYTE_BUFFER_H

#include <stddef.h>

struct byte_buffer {
    char *data;    /* NULL until the first byte; then NUL-terminated; caller frees */
    size_t length; /* bytes held, not counting the NUL */
    size_t capacity;
    size_t limit;   /* most bytes it will hold; set before the first append */
    int over_limit; /* set once an append was refused for the limit */
};

/* A CURLOPT_WRITEFUNCTION taking a struct byte_buffer as CURLOPT_WRITEDATA:
 * appends the chunk. A chunk past the limit (over_limit is set then) or out
 * of memory makes libcurl abort the transfer with CURLE_WRITE_ERROR. */
size_t byte_buffer_curl_write(char *data, size_t size, size_t count, void *buffer);
/* Appends length bytes: 0, or -1 with the buffer unchanged (over_limit set
 * when the limit refused them, else out of memory). */
int byte_buffer_append(struct byte_buffer *buffer, const char *data, size_t length);

#endif
