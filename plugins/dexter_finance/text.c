/* Text buffer and number formatting for dexter_finance answers. */
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USD_PLAIN_LIMIT 1e15     /* at or above: scientific notation */
#define PERCENT_PLAIN_LIMIT 1e12 /* "+999999999999.99%" fits the 24 bytes answers use */

void dexter_text_append(dexter_text *text, const char *format, ...)
{
    if (text->failed)
        return;
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (needed < 0) {
        va_end(args);
        text->failed = 1;
        return;
    }
    size_t wanted = text->length + (size_t)needed + 1;
    if (wanted > text->capacity) {
        size_t capacity = text->capacity ? text->capacity : 256;
        while (capacity < wanted)
            capacity *= 2;
        char *grown = realloc(text->data, capacity);
        if (!grown) {
            va_end(args);
            text->failed = 1;
            return;
        }
        text->data = grown;
        text->capacity = capacity;
    }
    vsnprintf(text->data + text->length, text->capacity - text->length, format, args);
    va_end(args);
    text->length += (size_t)needed;
}

char *dexter_text_take(dexter_text *text)
{
    if (text->failed || !text->data) {
        dexter_text_free(text);
        return NULL;
    }
    char *data = text->data;
    memset(text, 0, sizeof *text);
    return data;
}

void dexter_text_free(dexter_text *text)
{
    free(text->data);
    memset(text, 0, sizeof *text);
}

/* Inserts thousands separators into the integer part of a plain number. */
static void group_thousands(const char *plain, char *out, size_t out_length)
{
    const char *dot = strchr(plain, '.');
    size_t integer_digits = dot ? (size_t)(dot - plain) : strlen(plain);
    size_t n = 0;
    for (size_t i = 0; plain[i] && n + 1 < out_length; i++) {
        if (i > 0 && i < integer_digits && (integer_digits - i) % 3 == 0 && n + 2 < out_length)
            out[n++] = ',';
        out[n++] = plain[i];
    }
    out[n] = '\0';
}

void dexter_format_usd(double value, char *out, size_t out_length)
{
    if (!isfinite(value)) {
        snprintf(out, out_length, "n/a");
        return;
    }
    const char *sign = value < 0 ? "-" : "";
    double magnitude = fabs(value);
    if (magnitude >= USD_PLAIN_LIMIT) { /* its digits would not fit: never show them cut */
        snprintf(out, out_length, "%s$%.2e", sign, magnitude);
        return;
    }
    /* four significant digits at least below $10: a stablecoin's $0.9998
     * and a $0.00002345 token both read right */
    int decimals = magnitude >= 1 && magnitude < 10 ? 4 : 2;
    if (magnitude > 0 && magnitude < 1) {
        decimals = (int)ceil(-log10(magnitude)) + 3;
        if (decimals > 12)
            decimals = 12;
    }
    dexter_format_usd_decimals(value, decimals, out, out_length);
}

void dexter_format_usd_decimals(double value, int decimals, char *out, size_t out_length)
{
    char plain[64], grouped[80];
    snprintf(plain, sizeof plain, "%.*f", decimals, fabs(value));
    group_thousands(plain, grouped, sizeof grouped);
    snprintf(out, out_length, "%s$%s", value < 0 ? "-" : "", grouped);
}

void dexter_format_large_usd(double value, char *out, size_t out_length)
{
    static const struct {
        double scale;
        const char *suffix;
    } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0] && fabs(value) < USD_PLAIN_LIMIT; i++) {
        if (fabs(value) >= units[i].scale) {
            snprintf(out, out_length, "$%.2f%s", value / units[i].scale, units[i].suffix);
            return;
        }
    }
    dexter_format_usd(value, out, out_length);
}

void dexter_format_percent(double value, char *out, size_t out_length)
{
    /* -0.004 would print "-0.00%": show it as "+0.00%" */
    if (fabs(value) < 0.005)
        value = 0.0;
    if (fabs(value) >= PERCENT_PLAIN_LIMIT) /* too long for the callers' buffers */
        snprintf(out, out_length, "%+.2e%%", value);
    else
        snprintf(out, out_length, "%+.2f%%", value);
}

void dexter_format_utc(int64_t time_ms, char *out, size_t out_length)
{
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm parts;
    if (time_ms <= 0 || !gmtime_r(&seconds, &parts)) {
        snprintf(out, out_length, "unknown time");
        return;
    }
    strftime(out, out_length, "%Y-%m-%d %H:%M UTC", &parts);
}
