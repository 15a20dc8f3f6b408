/* Draws the /chart picture with cairo's image surface and writes it as a PNG
 * into memory. Layout: title and subtitle on top, the plot with a price axis
 * on the left and a UTC time axis below, the legend under it. */
#include "chart.h"

#include <cairo/cairo.h>
#include <fontconfig/fontconfig.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

#define FONT_FAMILY "DejaVu Sans" /* fontconfig falls back to any sans */
#define MS_PER_HOUR 3600000.0
/* Prices outside this range are skipped: the axis math stays in doubles. */
#define PRICE_MIN 1e-200
#define PRICE_MAX 1e200
#define PRICE_TICKS_WANTED 6
#define TIME_TICKS_MAX 8
#define LABEL_MAX 64

typedef struct chart_series {
    double *times; /* ms */
    double *prices;
    double *sma_fast, *sma_slow; /* NAN until the window is full */
    size_t count;
    size_t first_shown;
    size_t skipped; /* unusable points left out */
} chart_series;

typedef struct chart_frame {
    double left, top, right, bottom; /* the plot area in pixels */
    double time_min, time_max;       /* ms */
    double price_min, price_max;
    double price_step; /* between price ticks */
} chart_frame;

typedef struct png_buffer {
    unsigned char *data;
    size_t length, capacity;
} png_buffer;

/* ---- the data --------------------------------------------------------- */

static int usable_price(double price)
{
    return isfinite(price) && price >= PRICE_MIN && price <= PRICE_MAX;
}

static void series_free(chart_series *series)
{
    free(series->times);
    free(series->prices);
    free(series->sma_fast);
    free(series->sma_slow);
    memset(series, 0, sizeof *series);
}

/* The same mean as indicators.c (dexter_sma) at every point of the chart. */
static void moving_average(const double *prices, size_t count, size_t window, double *out)
{
    for (size_t i = 0; i < count; i++)
        if (window == 0 || dexter_sma(prices, i + 1, window, &out[i]) != 0)
            out[i] = NAN;
}

static int series_build(const dexter_chart_input *input, chart_series *series)
{
    memset(series, 0, sizeof *series);
    size_t capacity = input->count ? input->count : 1;
    series->times = malloc(capacity * sizeof *series->times);
    series->prices = malloc(capacity * sizeof *series->prices);
    series->sma_fast = malloc(capacity * sizeof *series->sma_fast);
    series->sma_slow = malloc(capacity * sizeof *series->sma_slow);
    if (!series->times || !series->prices || !series->sma_fast || !series->sma_slow) {
        series_free(series);
        return -1;
    }
    for (size_t i = 0; input->points && i < input->count; i++) {
        const dexter_point *point = &input->points[i];
        int in_order =
            series->count == 0 || (double)point->time_ms > series->times[series->count - 1];
        if (!usable_price(point->price) || point->time_ms <= 0 || !in_order) {
            series->skipped++;
            continue;
        }
        series->times[series->count] = (double)point->time_ms;
        series->prices[series->count] = point->price;
        series->count++;
    }
    moving_average(series->prices, series->count, input->sma_fast, series->sma_fast);
    moving_average(series->prices, series->count, input->sma_slow, series->sma_slow);
    while (series->first_shown < series->count &&
           series->times[series->first_shown] < (double)input->display_from_ms)
        series->first_shown++;
    return 0;
}

static void extreme_points(const chart_series *series, size_t *high, size_t *low)
{
    *high = *low = series->first_shown;
    for (size_t i = series->first_shown; i < series->count; i++) {
        if (series->prices[i] > series->prices[*high])
            *high = i;
        if (series->prices[i] < series->prices[*low])
            *low = i;
    }
}

/* ---- the axes --------------------------------------------------------- */

/* 1, 2, 2.5 or 5 times a power of ten, near raw. */
static double nice_step(double raw)
{
    double power = pow(10.0, floor(log10(raw)));
    double mantissa = raw / power;
    if (mantissa < 1.5)
        return power;
    if (mantissa < 2.25)
        return 2.0 * power;
    if (mantissa < 3.5)
        return 2.5 * power;
    if (mantissa < 7.5)
        return 5.0 * power;
    return 10.0 * power;
}

static void price_range(const chart_series *series, chart_frame *frame)
{
    double low = INFINITY, high = -INFINITY;
    const double *lines[] = {series->prices, series->sma_fast, series->sma_slow};
    for (size_t line = 0; line < sizeof lines / sizeof lines[0]; line++) {
        for (size_t i = series->first_shown; i < series->count; i++) {
            if (!isfinite(lines[line][i]))
                continue;
            low = fmin(low, lines[line][i]);
            high = fmax(high, lines[line][i]);
        }
    }
    double middle = (low + high) / 2.0;
    /* flat (a stablecoin, one point) or below what a double can tell apart:
     * half a percent either side keeps the line in the middle */
    if (high - low <= middle * 1e-9) {
        low = middle * 0.995;
        high = middle * 1.005;
    } else {
        double margin = (high - low) * 0.1; /* room for the high and low labels */
        low = low - margin > 0 ? low - margin : low / 2.0;
        high += margin;
    }
    frame->price_step = nice_step((high - low) / PRICE_TICKS_WANTED);
    frame->price_min = low;
    frame->price_max = high;
}

/* The fewest decimals that write step (and so every tick) exactly. */
static int decimals_for(double step)
{
    for (int decimals = 0; decimals < 12; decimals++) {
        double scaled = step * pow(10.0, decimals);
        if (fabs(scaled - round(scaled)) < scaled * 1e-6)
            return decimals;
    }
    return 12;
}

static void format_price_tick(double value, double step, char *out, size_t out_length)
{
    static const struct {
        double scale;
        const char *suffix;
    } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}};
    if (value >= 1e15 || value < 1e-6) { /* no run of zeros to count */
        /* as many significant digits as tell neighbouring ticks apart */
        int digits = (int)(floor(log10(value)) - floor(log10(step))) +
                     (decimals_for(step / pow(10.0, floor(log10(step)))) > 0);
        digits = digits < 1 ? 1 : digits > 8 ? 8 : digits;
        snprintf(out, out_length, "$%.*e", digits, value);
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (value >= units[i].scale && step >= units[i].scale / 1000.0) {
            snprintf(out, out_length, "$%.*f%s", decimals_for(step / units[i].scale),
                     value / units[i].scale, units[i].suffix);
            return;
        }
    }
    dexter_format_usd_decimals(value, decimals_for(step), out, out_length);
}

static double x_of(const chart_frame *frame, double time_ms)
{
    double span = frame->time_max - frame->time_min;
    return frame->left + (time_ms - frame->time_min) / span * (frame->right - frame->left);
}

static double y_of(const chart_frame *frame, double price)
{
    double span = frame->price_max - frame->price_min;
    return frame->bottom - (price - frame->price_min) / span * (frame->bottom - frame->top);
}

/* Time steps aligned on UTC: hours divide a day, days count from the epoch. */
static double time_step(double span_ms)
{
    static const double hours[] = {1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2880, 8760};
    for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++)
        if (span_ms / (hours[i] * MS_PER_HOUR) <= TIME_TICKS_MAX)
            return hours[i] * MS_PER_HOUR;
    return span_ms / TIME_TICKS_MAX;
}

static void format_time_tick(double time_ms, double step_ms, char *out, size_t out_length)
{
    time_t seconds = (time_t)(time_ms / 1000.0);
    struct tm parts;
    if (!gmtime_r(&seconds, &parts)) {
        snprintf(out, out_length, "?");
        return;
    }
    int midnight = parts.tm_hour == 0 && parts.tm_min == 0;
    const char *format = step_ms >= 720 * MS_PER_HOUR              ? "%Y-%m-%d"
                         : step_ms >= 24 * MS_PER_HOUR || midnight ? "%b %d"
                                                                   : "%H:%M";
    strftime(out, out_length, format, &parts);
}

/* ---- drawing ---------------------------------------------------------- */

static void set_colour(cairo_t *cr, unsigned rgb)
{
    cairo_set_source_rgb(cr, ((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0,
                         (rgb & 0xFF) / 255.0);
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *text)
{
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text, &extents);
    return extents.x_advance;
}

/* align: 0 left, 0.5 centred, 1 right of x; y is the baseline. */
static void show_text(cairo_t *cr, double x, double y, double align, const char *text)
{
    cairo_move_to(cr, x - text_width(cr, text) * align, y);
    cairo_show_text(cr, text);
}

static void draw_header(cairo_t *cr, const dexter_chart_input *input, const chart_series *series,
                        double width)
{
    char title[160], when[40], subtitle[320], spacing[32];
    int64_t data_time =
        input->data_time_ms > 0 ? input->data_time_ms : (int64_t)series->times[series->count - 1];
    dexter_format_utc(data_time, when, sizeof when);
    snprintf(title, sizeof title, "%s price, %s  (data time %s)",
             input->symbol ? input->symbol : "?", input->period ? input->period : "", when);
    set_colour(cr, 0x202124);
    set_font(cr, 20, 1);
    show_text(cr, 24, 34, 0, title);

    size_t shown = series->count - series->first_shown;
    double step = shown > 1
                      ? (series->times[series->count - 1] - series->times[series->first_shown]) /
                            (double)(shown - 1)
                      : 0;
    jv_format_duration((int64_t)(step / 60000.0 + 0.5) * 60, spacing, sizeof spacing);
    int length =
        snprintf(subtitle, sizeof subtitle, "USD, %zu point%s%s%s", shown, shown == 1 ? "" : "s",
                 shown > 1 ? " about every " : "", shown > 1 ? spacing : "");
    if (input->sma_fast || input->sma_slow)
        length += snprintf(subtitle + length, sizeof subtitle - (size_t)length,
                           "; averages over the chart's points");
    if (series->skipped)
        length += snprintf(subtitle + length, sizeof subtitle - (size_t)length,
                           "; %zu unusable point%s skipped", series->skipped,
                           series->skipped == 1 ? "" : "s");
    if (input->source && input->source[0])
        snprintf(subtitle + length, sizeof subtitle - (size_t)length, "; source: %s",
                 input->source);
    set_colour(cr, 0x5F6368);
    set_font(cr, 13, 0);
    show_text(cr, 24, 56, 0, subtitle);
    (void)width;
}

static void draw_price_axis(cairo_t *cr, const chart_frame *frame)
{
    set_font(cr, 12, 0);
    double first = ceil(frame->price_min / frame->price_step);
    for (int i = 0; i < 4 * PRICE_TICKS_WANTED; i++) {
        double value = (first + i) * frame->price_step;
        if (value > frame->price_max)
            break;
        double y = round(y_of(frame, value)) + 0.5;
        set_colour(cr, 0xE6E6E6);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, frame->left, y);
        cairo_line_to(cr, frame->right, y);
        cairo_stroke(cr);
        char label[LABEL_MAX];
        format_price_tick(value, frame->price_step, label, sizeof label);
        set_colour(cr, 0x3C4043);
        show_text(cr, frame->left - 8, y + 4, 1, label);
    }
    cairo_save(cr);
    set_font(cr, 13, 0);
    cairo_translate(cr, 20, (frame->top + frame->bottom) / 2);
    cairo_rotate(cr, -M_PI / 2);
    show_text(cr, 0, 0, 0.5, "Price (USD)");
    cairo_restore(cr);
}

static void draw_time_axis(cairo_t *cr, const chart_frame *frame)
{
    set_font(cr, 12, 0);
    double step = time_step(frame->time_max - frame->time_min);
    double last_label_end = -INFINITY;
    for (double tick = ceil(frame->time_min / step) * step; tick <= frame->time_max; tick += step) {
        double x = round(x_of(frame, tick)) + 0.5;
        set_colour(cr, 0xEEEEEE);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, x, frame->top);
        cairo_line_to(cr, x, frame->bottom + 5);
        cairo_stroke(cr);
        char label[LABEL_MAX];
        format_time_tick(tick, step, label, sizeof label);
        double half = text_width(cr, label) / 2;
        if (x - half < last_label_end + 8) /* never print one label over another */
            continue;
        set_colour(cr, 0x3C4043);
        show_text(cr, x, frame->bottom + 20, 0.5, label);
        last_label_end = x + half;
    }
    set_font(cr, 13, 0);
    show_text(cr, (frame->left + frame->right) / 2, frame->bottom + 40, 0.5, "Time (UTC)");
}

static void draw_line(cairo_t *cr, const chart_frame *frame, const chart_series *series,
                      const double *values, unsigned rgb, double line_width, int dashed)
{
    int drawing = 0;
    for (size_t i = series->first_shown; i < series->count; i++) {
        if (!isfinite(values[i])) {
            drawing = 0;
            continue;
        }
        double x = x_of(frame, series->times[i]), y = y_of(frame, values[i]);
        if (drawing)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        drawing = 1;
    }
    double dash[] = {7, 4};
    cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
    set_colour(cr, rgb);
    cairo_set_line_width(cr, line_width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

static void draw_marker(cairo_t *cr, double x, double y, unsigned rgb)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, 5.5, 0, 2 * M_PI);
    set_colour(cr, rgb);
    cairo_fill_preserve(cr);
    set_colour(cr, 0xFFFFFF);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
}

/* The label goes above (or below) the point, inside the plot area. */
static void draw_extreme(cairo_t *cr, const chart_frame *frame, double time_ms, double price,
                         const char *name, unsigned rgb, int above)
{
    double x = x_of(frame, time_ms), y = y_of(frame, price);
    draw_marker(cr, x, y, rgb);
    char amount[48], label[80];
    if (price >= 1e9)
        dexter_format_large_usd(price, amount, sizeof amount);
    else
        dexter_format_usd(price, amount, sizeof amount);
    snprintf(label, sizeof label, "%s %s", name, amount);
    set_font(cr, 12, 1);
    double width = text_width(cr, label);
    double left = fmin(fmax(x - width / 2, frame->left + 4), frame->right - width - 4);
    double baseline = above ? y - 10 : y + 20;
    if (baseline - 12 < frame->top)
        baseline = y + 20;
    if (baseline > frame->bottom - 4)
        baseline = y - 10;
    set_colour(cr, 0xFFFFFF);
    cairo_rectangle(cr, left - 2, baseline - 11, width + 4, 14);
    cairo_fill(cr);
    set_colour(cr, rgb);
    show_text(cr, left, baseline, 0, label);
}

static void draw_extremes(cairo_t *cr, const chart_frame *frame, const chart_series *series)
{
    size_t high, low;
    extreme_points(series, &high, &low);
    if (series->prices[high] == series->prices[low]) {
        draw_extreme(cr, frame, series->times[high], series->prices[high], "High = low",
                     DEXTER_CHART_HIGH_RGB, 1);
        return;
    }
    draw_extreme(cr, frame, series->times[high], series->prices[high], "High",
                 DEXTER_CHART_HIGH_RGB, 1);
    draw_extreme(cr, frame, series->times[low], series->prices[low], "Low", DEXTER_CHART_LOW_RGB,
                 0);
}

typedef struct legend_entry {
    char label[32];
    unsigned rgb;
    int marker, dashed;
} legend_entry;

static void draw_legend(cairo_t *cr, const dexter_chart_input *input, const chart_frame *frame)
{
    legend_entry entries[5];
    size_t count = 0;
    entries[count++] = (legend_entry){"Price", DEXTER_CHART_PRICE_RGB, 0, 0};
    if (input->sma_fast) {
        entries[count] = (legend_entry){"", DEXTER_CHART_SMA_FAST_RGB, 0, 0};
        snprintf(entries[count++].label, sizeof entries[0].label, "SMA %zu", input->sma_fast);
    }
    if (input->sma_slow) {
        entries[count] = (legend_entry){"", DEXTER_CHART_SMA_SLOW_RGB, 0, 1};
        snprintf(entries[count++].label, sizeof entries[0].label, "SMA %zu", input->sma_slow);
    }
    entries[count++] = (legend_entry){"Period high", DEXTER_CHART_HIGH_RGB, 1, 0};
    entries[count++] = (legend_entry){"Period low", DEXTER_CHART_LOW_RGB, 1, 0};
    set_font(cr, 13, 0);
    double total = 0;
    for (size_t i = 0; i < count; i++)
        total += 30 + text_width(cr, entries[i].label) + 24;
    double x = (frame->left + frame->right - total) / 2, y = frame->bottom + 64;
    for (size_t i = 0; i < count; i++) {
        if (entries[i].marker) {
            draw_marker(cr, x + 12, y - 4, entries[i].rgb);
        } else {
            double dash[] = {7, 4};
            cairo_set_dash(cr, dash, entries[i].dashed ? 2 : 0, 0);
            set_colour(cr, entries[i].rgb);
            cairo_set_line_width(cr, 2.5);
            cairo_move_to(cr, x, y - 4);
            cairo_line_to(cr, x + 24, y - 4);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        set_colour(cr, 0x3C4043);
        show_text(cr, x + 30, y, 0, entries[i].label);
        x += 30 + text_width(cr, entries[i].label) + 24;
    }
}

/* The widest price label decides where the plot starts. */
static void layout(cairo_t *cr, const chart_series *series, double width, double height,
                   chart_frame *frame)
{
    price_range(series, frame);
    frame->time_min = series->times[series->first_shown];
    frame->time_max = series->times[series->count - 1];
    if (frame->time_max <= frame->time_min) { /* one point: an hour either side */
        frame->time_min -= MS_PER_HOUR;
        frame->time_max += MS_PER_HOUR;
    }
    set_font(cr, 12, 0);
    double widest = 0;
    double first = ceil(frame->price_min / frame->price_step);
    for (int i = 0; i < 4 * PRICE_TICKS_WANTED; i++) {
        double value = (first + i) * frame->price_step;
        if (value > frame->price_max)
            break;
        char label[LABEL_MAX];
        format_price_tick(value, frame->price_step, label, sizeof label);
        widest = fmax(widest, text_width(cr, label));
    }
    frame->left = 36 + widest + 10;
    frame->right = width - 28;
    frame->top = 74;
    frame->bottom = height - 86;
}

static void draw(cairo_t *cr, const dexter_chart_input *input, const chart_series *series,
                 double width, double height)
{
    set_colour(cr, 0xFFFFFF);
    cairo_paint(cr);
    chart_frame frame;
    layout(cr, series, width, height, &frame);
    draw_header(cr, input, series, width);
    draw_price_axis(cr, &frame);
    draw_time_axis(cr, &frame);

    cairo_save(cr);
    cairo_rectangle(cr, frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
    cairo_clip(cr);
    draw_line(cr, &frame, series, series->sma_slow, DEXTER_CHART_SMA_SLOW_RGB, 1.8, 1);
    draw_line(cr, &frame, series, series->sma_fast, DEXTER_CHART_SMA_FAST_RGB, 1.8, 0);
    draw_line(cr, &frame, series, series->prices, DEXTER_CHART_PRICE_RGB, 2.5, 0);
    if (series->count - series->first_shown == 1)
        draw_marker(cr, x_of(&frame, series->times[series->first_shown]),
                    y_of(&frame, series->prices[series->first_shown]), DEXTER_CHART_PRICE_RGB);
    cairo_restore(cr);
    draw_extremes(cr, &frame, series); /* a marker on the edge is drawn whole */

    set_colour(cr, 0x9AA0A6);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(frame.left) + 0.5, round(frame.top) + 0.5,
                    round(frame.right - frame.left), round(frame.bottom - frame.top));
    cairo_stroke(cr);
    draw_legend(cr, input, &frame);
}

/* ---- the PNG ---------------------------------------------------------- */

static cairo_status_t append_png(void *closure, const unsigned char *data, unsigned int length)
{
    png_buffer *buffer = closure;
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 64 * 1024;
        while (capacity < buffer->length + length)
            capacity *= 2;
        unsigned char *grown = realloc(buffer->data, capacity);
        if (!grown)
            return CAIRO_STATUS_NO_MEMORY;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    return CAIRO_STATUS_SUCCESS;
}

static int size_or_default(int asked, int fallback, int minimum)
{
    if (asked <= 0)
        return fallback;
    return asked < minimum ? minimum : asked > 4 * fallback ? 4 * fallback : asked;
}

int dexter_chart_render(const dexter_chart_input *input, dexter_chart_png *png, char *reason,
                        size_t reason_length)
{
    memset(png, 0, sizeof *png);
    const char *symbol = input->symbol ? input->symbol : "?";
    const char *period = input->period ? input->period : "the period";
    chart_series series;
    if (series_build(input, &series) != 0) {
        snprintf(reason, reason_length, "out of memory drawing the chart");
        return -1;
    }
    int result = -1;
    cairo_surface_t *surface = NULL;
    cairo_t *cr = NULL;
    png_buffer buffer = {0};
    if (series.first_shown >= series.count) {
        snprintf(reason, reason_length, "no usable prices for %s in %s", symbol, period);
        goto cleanup;
    }
    int width = size_or_default(input->width, DEXTER_CHART_WIDTH, DEXTER_CHART_MIN_WIDTH);
    int height = size_or_default(input->height, DEXTER_CHART_HEIGHT, DEXTER_CHART_MIN_HEIGHT);
    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cr = cairo_create(surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(reason, reason_length, "cannot draw the chart: %s",
                 cairo_status_to_string(cairo_status(cr)));
        goto cleanup;
    }
    draw(cr, input, &series, width, height);
    cairo_status_t status = cairo_status(cr);
    if (status == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(surface);
        status = cairo_surface_write_to_png_stream(surface, append_png, &buffer);
    }
    if (status != CAIRO_STATUS_SUCCESS) {
        snprintf(reason, reason_length, "cannot draw the chart: %s",
                 cairo_status_to_string(status));
        free(buffer.data);
        goto cleanup;
    }
    png->data = buffer.data;
    png->length = buffer.length;
    result = 0;
cleanup:
    if (cr)
        cairo_destroy(cr);
    if (surface)
        cairo_surface_destroy(surface);
    series_free(&series);
    return result;
}

void dexter_chart_png_free(dexter_chart_png *png)
{
    free(png->data);
    png->data = NULL;
    png->length = 0;
}

void dexter_chart_release_caches(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
