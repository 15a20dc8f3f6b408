/* The /chart picture of dexter_finance: a price series drawn with cairo into
 * a PNG in memory (price line, the fast and slow SMA on the chart's own
 * points, the period's high and low, title, axes, legend). Pure: no I/O, no
 * host calls; safe to call from several threads at once. */
#ifndef DEXTER_CHART_H
#define DEXTER_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "indicators.h"

#define DEXTER_CHART_WIDTH 1000
#define DEXTER_CHART_HEIGHT 560
#define DEXTER_CHART_MIN_WIDTH 800
#define DEXTER_CHART_MIN_HEIGHT 450

/* 0xRRGGBB, drawn opaque, so a reader of the picture can find each line */
#define DEXTER_CHART_PRICE_RGB 0x1565C0u
#define DEXTER_CHART_SMA_FAST_RGB 0xF08C00u
#define DEXTER_CHART_SMA_SLOW_RGB 0x8E44ADu
#define DEXTER_CHART_HIGH_RGB 0x2E7D32u
#define DEXTER_CHART_LOW_RGB 0xC62828u

typedef struct dexter_chart_input {
    const dexter_point
        *points; /* oldest first; NaN, inf, <= 0 and out-of-order points are skipped */
    size_t count;
    int64_t display_from_ms;   /* points before it only warm up the averages; 0: show all */
    const char *symbol;        /* "SOL" */
    const char *period;        /* "7d", shown in the title */
    int64_t data_time_ms;      /* shown in the title (UTC); 0: the newest point's time */
    const char *source;        /* "CoinGecko"; NULL or "": not shown */
    size_t sma_fast, sma_slow; /* windows in points; 0: that line is not drawn */
    int width, height;         /* 0: the default size; raised to the minimum */
} dexter_chart_input;

typedef struct dexter_chart_png {
    unsigned char *data; /* malloc'd; dexter_chart_png_free */
    size_t length;
} dexter_chart_png;

/* 0 with the PNG in png, or -1 with a one-line reason ("no usable prices
 * for SOL in 7d") and png empty. */
int dexter_chart_render(const dexter_chart_input *input, dexter_chart_png *png, char *reason,
                        size_t reason_length);
void dexter_chart_png_free(dexter_chart_png *png);

/* Frees cairo's and fontconfig's caches (fontconfig keeps its config until
 * FcFini, which a leak checker reports). Only when no chart is being drawn:
 * at unload. Drawing again afterwards is allowed. */
void dexter_chart_release_caches(void);

#endif
