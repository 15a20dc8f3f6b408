/* The capped, NUL-terminated growable buffer behind the core's libcurl
 * response bodies (http.c for plugins, telegram_api.c for the Bot API) and
 * behind the hand-read answers of http_response_parser.c. */
#include "base/byte_buffer.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 4096

/* Doubling keeps a large body at a logarithmic number of reallocs. */
static int reserve(struct byte_buffer *buffer, size_t needed)
{
    if (needed <= buffer->capacity)
        return 0;
    size_t capacity = buffer->capacity > 0 ? buffer->capacity : FIRST_CAPACITY;
    while (capacity < needed)
        capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL)
        return -1;
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

int byte_buffer_append(struct byte_buffer *buffer, const char *data, size_t length)
{
    /* Written as a subtraction so a huge length cannot wrap the sum. */
    if (length > buffer->limit - buffer->length) {
        buffer->over_limit = 1;
        return -1;
    }
    if (reserve(buffer, buffer->length + length + 1) != 0)
        return -1;
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
    return 0;
}

size_t byte_buffer_curl_write(char *data, size_t size, size_t count, void *buffer)
{
    size_t length = size * count;
    return byte_buffer_append(buffer, data, length) == 0 ? length : 0;
}
