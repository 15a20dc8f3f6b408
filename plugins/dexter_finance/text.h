/* Text helpers for dexter_finance answers: a growing string buffer and the
 * number formats every answer shares (USD prices, large amounts, signed
 * percentages, UTC times), so the same number always reads the same way. */
#ifndef DEXTER_TEXT_H
#define DEXTER_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/text.h> /* jv_format_duration: "24h", "7d", "90m" */

typedef struct dexter_text {
    char *data;
    size_t length;
    size_t capacity;
    int failed; /* an allocation failed: take() returns NULL */
} dexter_text;

void dexter_text_append(dexter_text *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands over the buffer (malloc'd, caller frees), or NULL after a failure. */
char *dexter_text_take(dexter_text *text);
void dexter_text_free(dexter_text *text);

/* "$64,123.45", "$1.0002" (4 decimals below $10), "$0.00002345" (4
 * significant digits below $1); "$1.20e+15" from
 * 1e15 up, whose digits would not fit a reply's number buffer. */
void dexter_format_usd(double value, char *out, size_t out_length);
/* "$12,500.0" for (12500, 1): a fixed number of decimals, thousands
 * grouped; for values below 1e15 (axis ticks). */
void dexter_format_usd_decimals(double value, int decimals, char *out, size_t out_length);
/* "$1.26T", "$85.40B", "$512.30M", else as dexter_format_usd. */
void dexter_format_large_usd(double value, char *out, size_t out_length);
/* "+3.10%", "-0.42%"; "+1.00e+12%" from 1e12 up (fits 24 bytes). */
void dexter_format_percent(double value, char *out, size_t out_length);
/* "2025-11-20 14:00 UTC". */
void dexter_format_utc(int64_t time_ms, char *out, size_t out_length);

#endif
