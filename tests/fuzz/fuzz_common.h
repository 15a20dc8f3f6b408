/* Shared by the libFuzzer targets in tests/fuzz: a NUL-terminated copy of
 * the input, a UTF-8 validity check for outputs, a quiet log, and a
 * failure that libFuzzer records as a crash with its input. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"

/* A broken property: abort() makes libFuzzer save the input as a crash. */
#define FUZZ_REQUIRE(condition)                                                        \
    do {                                                                               \
        if (!(condition)) {                                                            \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
                    #condition);                                                       \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        abort();
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

/* The input as a real file (a memfd: no disk), for parsers that open a path
 * or read an fd. -1 when it cannot be made (the input is then skipped). */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd >= 0 && size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Parsers log their refusals; the fuzzer's output should show findings only. */
static inline void fuzz_quiet_log(void)
{
    static int opened;
    if (!opened) {
        log_open("/dev/null", LOG_ERROR);
        opened = 1;
    }
}

/* 1 when text[0..length) is well-formed UTF-8 (no surrogates, no overlongs). */
static inline int fuzz_valid_utf8(const char *text, size_t length)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t i = 0;
    while (i < length) {
        unsigned char lead = bytes[i];
        size_t need;
        unsigned int code;
        unsigned int minimum;
        if (lead < 0x80) {
            i++;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            need = 1, code = lead & 0x1F, minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            need = 2, code = lead & 0x0F, minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            need = 3, code = lead & 0x07, minimum = 0x10000;
        } else {
            return 0;
        }
        if (length - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((bytes[i + k] & 0xC0) != 0x80)
                return 0;
            code = (code << 6) | (bytes[i + k] & 0x3F);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

#endif
