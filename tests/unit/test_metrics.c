/* Unit tests for core/metrics.c and core/listen_address.c: the exposition
 * text (HELP/TYPE, label escaping, cumulative buckets), exact counts under
 * concurrent increments, and the [metrics] listen parsing and loopback rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/listen_address.h"
#include "base/metrics.h"

static char *rendered(void)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    assert_non_null(out);
    assert_int_equal(metrics_render(out), 0);
    fclose(out);
    return text;
}

static int setup(void **state)
{
    (void)state;
    metrics_init("9.9.9-test", 1700000000.25);
    return 0;
}

static void help_and_type_lines_come_first(void **state)
{
    (void)state;
    char *text = rendered();
    const char *help = strstr(text, "# HELP jarvis_updates_total ");
    const char *type = strstr(text, "# TYPE jarvis_updates_total counter\n");
    const char *sample = strstr(text, "jarvis_updates_total{outcome=\"handled\"} ");
    assert_non_null(help);
    assert_non_null(type);
    assert_non_null(sample);
    assert_true(help < type && type < sample);
    assert_non_null(strstr(text, "# TYPE jarvis_handler_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "jarvis_build_info{version=\"9.9.9-test\"} 1\n"));
    assert_non_null(strstr(text, "process_start_time_seconds 1700000000.25\n"));
    assert_non_null(strstr(text, "jarvis_messages_sent_total 0\n"));
    free(text);
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    metrics_count(METRIC_SEND_ERRORS, "a\"b\\c\nd", NULL);
    char *text = rendered();
    assert_non_null(strstr(text, "jarvis_send_errors_total{kind=\"a\\\"b\\\\c\\nd\"} 1\n"));
    free(text);
}

static void assert_sample(const char *text, const char *suffix, const char *labels,
                          const char *value)
{
    char line[256];
    snprintf(line, sizeof line, "jarvis_handler_duration_seconds_%s{%s} %s", suffix, labels,
             value);
    if (strstr(text, line) == NULL)
        fail_msg("missing '%s' in:\n%s", line, text);
}

static void histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    metrics_observe(METRIC_HANDLER_DURATION, "unit", "run", 0.003);
    metrics_observe(METRIC_HANDLER_DURATION, "unit", "run", 0.2);
    metrics_observe(METRIC_HANDLER_DURATION, "unit", "run", 100);
    char *text = rendered();
    const char *const buckets[][2] = {{"0.001", "0\n"}, {"0.005", "1\n"}, {"0.25", "2\n"},
                                      {"30", "2\n"},    {"+Inf", "3\n"}};
    char labels[96];
    for (size_t i = 0; i < sizeof buckets / sizeof *buckets; i++) {
        snprintf(labels, sizeof labels, "plugin=\"unit\",command=\"run\",le=\"%s\"", buckets[i][0]);
        assert_sample(text, "bucket", labels, buckets[i][1]);
    }
    assert_sample(text, "count", "plugin=\"unit\",command=\"run\"", "3\n");
    assert_sample(text, "sum", "plugin=\"unit\",command=\"run\"", "100.203");
    free(text);
}

#define THREADS 4
#define INCREMENTS 50000

static void *count_many(void *argument)
{
    (void)argument;
    for (int i = 0; i < INCREMENTS; i++) {
        metrics_count(METRIC_PLUGIN_HTTP, "racer", "2xx");
        metrics_observe(METRIC_HANDLER_DURATION, "racer", "go", 0.5);
    }
    return NULL;
}

static void concurrent_updates_lose_nothing(void **state)
{
    (void)state;
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, count_many, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    assert_true(metrics_value(METRIC_PLUGIN_HTTP, "racer", "2xx") == THREADS * INCREMENTS);
    char *text = rendered();
    char expected[32];
    snprintf(expected, sizeof expected, "%d\n", THREADS * INCREMENTS);
    assert_sample(text, "count", "plugin=\"racer\",command=\"go\"", expected);
    snprintf(expected, sizeof expected, "%d\n", THREADS * INCREMENTS / 2);
    assert_sample(text, "sum", "plugin=\"racer\",command=\"go\"", expected);
    free(text);
}

static void many_label_combinations_stay_bounded(void **state)
{
    (void)state;
    char kind[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(kind, sizeof kind, "k%d", i);
        metrics_count(METRIC_POLL_ERRORS, kind, NULL);
    }
    assert_true(metrics_value(METRIC_POLL_ERRORS, "k0", NULL) == 1);
    assert_true(metrics_value(METRIC_POLL_ERRORS, "k999", NULL) == 0); /* the table is full */
}

static void listen_addresses(void **state)
{
    (void)state;
    struct listen_address address;
    char problem[128];
    assert_int_equal(listen_address_parse("127.0.0.1:9464", &address, problem, sizeof problem), 0);
    assert_true(address.loopback);
    assert_int_equal(listen_address_parse("127.8.9.10:1", &address, problem, sizeof problem), 0);
    assert_true(address.loopback);
    assert_int_equal(listen_address_parse("localhost:80", &address, problem, sizeof problem), 0);
    assert_true(address.loopback);
    assert_int_equal(listen_address_parse("[::1]:9464", &address, problem, sizeof problem), 0);
    assert_true(address.loopback);
    assert_int_equal(address.family, AF_INET6);
    assert_int_equal(listen_address_parse("0.0.0.0:9464", &address, problem, sizeof problem), 0);
    assert_false(address.loopback);
    assert_int_equal(listen_address_parse("[::]:9464", &address, problem, sizeof problem), 0);
    assert_false(address.loopback);
    assert_int_equal(listen_address_parse("[::ffff:127.0.0.1]:9", &address, problem, sizeof problem),
                     0);
    assert_true(address.loopback);
    const char *bad[] = {"", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                         "127.0.0.1:12ab", "::1:9464", "[::1]9464", "[nonsense]:1",
                         "example.com:9464", "1.2.3.4.5:1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        problem[0] = '\0';
        assert_int_equal(listen_address_parse(bad[i], &address, problem, sizeof problem), -1);
        assert_true(problem[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_and_type_lines_come_first),
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(concurrent_updates_lose_nothing),
        cmocka_unit_test(many_label_combinations_stay_bounded),
        cmocka_unit_test(listen_addresses),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
