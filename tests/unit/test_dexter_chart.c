/* Unit tests for dexter_finance's /chart picture: the PNG header read byte by
 * byte (signature, IHDR size, bit depth, colour type), the pixels decoded
 * back with cairo to find each line's and marker's colour in the plot, and
 * the edge cases: flat, one point, unusable points, tiny and huge prices,
 * no data at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cairo/cairo.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dexter_finance/chart.h"

#define HOUR_MS 3600000LL
#define BASE_MS 1763596800000LL /* 2025-11-20 00:00 UTC */

typedef struct png_header {
    uint32_t width, height;
    int bit_depth, colour_type;
} png_header;

typedef struct png_reader {
    const unsigned char *data;
    size_t length, offset;
} png_reader;

static uint32_t big_endian(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

/* The 8-byte signature, then the first chunk, which must be a 13-byte IHDR. */
static void read_header(const dexter_chart_png *png, png_header *header)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    assert_true(png->length > 8 + 8 + 13 + 4);
    assert_memory_equal(png->data, signature, sizeof signature);
    assert_int_equal(big_endian(png->data + 8), 13);
    assert_memory_equal(png->data + 12, "IHDR", 4);
    header->width = big_endian(png->data + 16);
    header->height = big_endian(png->data + 20);
    header->bit_depth = png->data[24];
    header->colour_type = png->data[25];
}

static dexter_point *wave(size_t count, double base, double amplitude)
{
    dexter_point *points = calloc(count, sizeof *points);
    assert_non_null(points);
    for (size_t i = 0; i < count; i++) {
        points[i].time_ms = BASE_MS + (int64_t)i * HOUR_MS;
        points[i].price = base * (1.0 + amplitude * sin((double)i / 9.0));
    }
    return points;
}

static dexter_chart_input input_for(const dexter_point *points, size_t count)
{
    dexter_chart_input input = {
        .points = points,
        .count = count,
        .symbol = "SOL",
        .period = "7d",
        .source = "test data",
        .sma_fast = 7,
        .sma_slow = 25,
    };
    return input;
}

static void render_ok(const dexter_chart_input *input, dexter_chart_png *png)
{
    char reason[200] = "";
    int rc = dexter_chart_render(input, png, reason, sizeof reason);
    if (rc != 0)
        fail_msg("render failed: %s", reason);
    png_header header;
    read_header(png, &header);
    assert_true(header.width >= DEXTER_CHART_MIN_WIDTH);
    assert_true(header.height >= DEXTER_CHART_MIN_HEIGHT);
    assert_int_equal(header.bit_depth, 8);
    assert_true(header.colour_type == 2 || header.colour_type == 6); /* RGB, RGBA */
}

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int length)
{
    png_reader *reader = closure;
    if (reader->offset + length > reader->length)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, reader->data + reader->offset, length);
    reader->offset += length;
    return CAIRO_STATUS_SUCCESS;
}

typedef struct colour_count {
    size_t pixels;
    double mean_y;
} colour_count;

/* Pixels of rgb (within a little of it) in the middle of the picture, well
 * inside the plot area: the legend and the title are outside it. */
static colour_count count_in_plot(const dexter_chart_png *png, unsigned rgb)
{
    png_reader reader = {png->data, png->length, 0};
    cairo_surface_t *surface = cairo_image_surface_create_from_png_stream(read_png, &reader);
    assert_int_equal(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS);
    int width = cairo_image_surface_get_width(surface);
    int height = cairo_image_surface_get_height(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const unsigned char *data = cairo_image_surface_get_data(surface);
    colour_count count = {0, 0};
    for (int y = height * 16 / 100; y < height * 80 / 100; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = width * 15 / 100; x < width * 96 / 100; x++) {
            uint32_t pixel = row[x];
            int close = 1;
            for (int shift = 0; shift <= 16; shift += 8) {
                int have = (int)((pixel >> shift) & 0xFF), want = (int)((rgb >> shift) & 0xFF);
                close = close && abs(have - want) <= 6;
            }
            if (close) {
                count.pixels++;
                count.mean_y += y;
            }
        }
    }
    if (count.pixels)
        count.mean_y /= (double)count.pixels;
    cairo_surface_destroy(surface);
    return count;
}

/* ---- tests ------------------------------------------------------------ */

static void test_png_header_and_lines(void **unused)
{
    (void)unused;
    dexter_point *points = wave(24 * 7 + 1, 140.0, 0.05);
    dexter_chart_input input = input_for(points, 24 * 7 + 1);
    dexter_chart_png png;
    render_ok(&input, &png);
    png_header header;
    read_header(&png, &header);
    assert_int_equal(header.width, DEXTER_CHART_WIDTH);
    assert_int_equal(header.height, DEXTER_CHART_HEIGHT);
    assert_true(count_in_plot(&png, DEXTER_CHART_PRICE_RGB).pixels > 500);
    assert_true(count_in_plot(&png, DEXTER_CHART_SMA_FAST_RGB).pixels > 100);
    assert_true(count_in_plot(&png, DEXTER_CHART_SMA_SLOW_RGB).pixels > 100);
    dexter_chart_png_free(&png);
    free(points);
}

static void test_averages_left_out_when_off(void **unused)
{
    (void)unused;
    dexter_point *points = wave(100, 140.0, 0.05);
    dexter_chart_input input = input_for(points, 100);
    input.sma_fast = input.sma_slow = 0;
    dexter_chart_png png;
    render_ok(&input, &png);
    assert_true(count_in_plot(&png, DEXTER_CHART_PRICE_RGB).pixels > 300);
    assert_int_equal(count_in_plot(&png, DEXTER_CHART_SMA_FAST_RGB).pixels, 0);
    assert_int_equal(count_in_plot(&png, DEXTER_CHART_SMA_SLOW_RGB).pixels, 0);
    dexter_chart_png_free(&png);
    free(points);
}

/* Down to a low at point 20, up to a high at point 50, a little down: both
 * extremes inside the plot, the high well above the low. */
static void test_high_above_low(void **unused)
{
    (void)unused;
    size_t count = 60;
    dexter_point *points = wave(count, 1.0, 0.0);
    for (size_t i = 0; i < count; i++)
        points[i].price = i < 20 ? 50.0 - (double)i
                          : i <= 50 ? 30.0 + 2.0 * (double)(i - 20) : 90.0 - (double)(i - 50);
    dexter_chart_input input = input_for(points, count);
    dexter_chart_png png;
    render_ok(&input, &png);
    colour_count high = count_in_plot(&png, DEXTER_CHART_HIGH_RGB);
    colour_count low = count_in_plot(&png, DEXTER_CHART_LOW_RGB);
    assert_true(high.pixels > 40); /* the marker and its label */
    assert_true(low.pixels > 40);
    assert_true(high.mean_y + 100 < low.mean_y);
    dexter_chart_png_free(&png);
    free(points);
}

static void test_warm_up_points_not_shown(void **unused)
{
    (void)unused;
    size_t count = 200;
    dexter_point *points = wave(count, 50.0, 0.1);
    dexter_chart_input input = input_for(points, count);
    input.display_from_ms = points[count - 1].time_ms + 1;
    dexter_chart_png png;
    char reason[200] = "";
    assert_int_equal(dexter_chart_render(&input, &png, reason, sizeof reason), -1);
    assert_null(png.data);
    input.display_from_ms = points[count - 24].time_ms;
    render_ok(&input, &png);
    /* the averages had their warm-up: both lines exist over 24 points */
    assert_true(count_in_plot(&png, DEXTER_CHART_SMA_SLOW_RGB).pixels > 100);
    dexter_chart_png_free(&png);
    free(points);
}

static void test_flat_series(void **unused)
{
    (void)unused;
    dexter_point *points = wave(168, 1.0, 0.0);
    dexter_chart_input input = input_for(points, 168);
    input.symbol = "USDC";
    dexter_chart_png png;
    render_ok(&input, &png);
    assert_true(count_in_plot(&png, DEXTER_CHART_PRICE_RGB).pixels > 500);
    dexter_chart_png_free(&png);
    free(points);
}

static void test_single_point(void **unused)
{
    (void)unused;
    dexter_point point = {BASE_MS, 142.6};
    dexter_chart_input input = input_for(&point, 1);
    dexter_chart_png png;
    render_ok(&input, &png);
    assert_true(count_in_plot(&png, DEXTER_CHART_HIGH_RGB).pixels > 10);
    dexter_chart_png_free(&png);
}

static void test_no_data_is_refused(void **unused)
{
    (void)unused;
    char reason[200] = "";
    dexter_chart_png png = {(unsigned char *)reason, 1};
    dexter_chart_input input = input_for(NULL, 0);
    assert_int_equal(dexter_chart_render(&input, &png, reason, sizeof reason), -1);
    assert_null(png.data);
    assert_int_equal(png.length, 0);
    assert_non_null(strstr(reason, "SOL"));
    assert_non_null(strstr(reason, "7d"));

    dexter_point unusable[] = {{BASE_MS, NAN}, {BASE_MS + HOUR_MS, INFINITY},
                               {BASE_MS + 2 * HOUR_MS, -3.0}, {BASE_MS + 3 * HOUR_MS, 0.0}};
    input = input_for(unusable, 4);
    reason[0] = '\0';
    assert_int_equal(dexter_chart_render(&input, &png, reason, sizeof reason), -1);
    assert_true(reason[0] != '\0');
    input.symbol = input.period = NULL; /* still a reason, never a crash */
    assert_int_equal(dexter_chart_render(&input, &png, reason, sizeof reason), -1);
}

static void test_unusable_points_skipped(void **unused)
{
    (void)unused;
    size_t count = 120;
    dexter_point *points = wave(count, 140.0, 0.05);
    for (size_t i = 0; i < count; i += 11)
        points[i].price = i % 2 ? NAN : INFINITY;
    points[50].time_ms = points[10].time_ms; /* out of order */
    points[60].price = -1.0;
    dexter_chart_input input = input_for(points, count);
    dexter_chart_png png;
    render_ok(&input, &png);
    assert_true(count_in_plot(&png, DEXTER_CHART_PRICE_RGB).pixels > 300);
    dexter_chart_png_free(&png);
    free(points);
}

static void test_magnitudes(void **unused)
{
    (void)unused;
    const double bases[] = {0.00002, 3e-9, 1e-150, 0.9999, 91250.0, 1.2e13, 1e150};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        dexter_point *points = wave(100, bases[i], 0.1);
        dexter_chart_input input = input_for(points, 100);
        dexter_chart_png png;
        render_ok(&input, &png);
        if (count_in_plot(&png, DEXTER_CHART_PRICE_RGB).pixels < 300)
            fail_msg("no price line for base %g", bases[i]);
        dexter_chart_png_free(&png);
        free(points);
    }
}

static void test_size_raised_to_minimum(void **unused)
{
    (void)unused;
    dexter_point *points = wave(48, 20.0, 0.05);
    dexter_chart_input input = input_for(points, 48);
    input.width = 100;
    input.height = 50;
    dexter_chart_png png;
    render_ok(&input, &png);
    png_header header;
    read_header(&png, &header);
    assert_int_equal(header.width, DEXTER_CHART_MIN_WIDTH);
    assert_int_equal(header.height, DEXTER_CHART_MIN_HEIGHT);
    dexter_chart_png_free(&png);
    free(points);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_header_and_lines),
        cmocka_unit_test(test_averages_left_out_when_off),
        cmocka_unit_test(test_high_above_low),
        cmocka_unit_test(test_warm_up_points_not_shown),
        cmocka_unit_test(test_flat_series),
        cmocka_unit_test(test_single_point),
        cmocka_unit_test(test_no_data_is_refused),
        cmocka_unit_test(test_unusable_points_skipped),
        cmocka_unit_test(test_magnitudes),
        cmocka_unit_test(test_size_raised_to_minimum),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    dexter_chart_release_caches(); /* so the leak checker sees only our memory */
    return failed;
}
