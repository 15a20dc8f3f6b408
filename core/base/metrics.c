/* The metrics registry and its Prometheus text rendering. Each metric has a
 * fixed table of series slots; a series is created once under the metric's
 * mutex and found afterwards by a lock-free probe, and its values are
 * atomics, so the hot paths (an update handled, a message sent) take no lock. */
#include "base/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define LABELS_MAX 2
#define LABEL_VALUE_MAX 64
#define SERIES_MAX 256
#define BUCKET_COUNT 13

enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

/* Handler latencies: from a cached answer (ms) to a slow upstream call (s). */
static const double duration_buckets[BUCKET_COUNT] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,     2.5,  5,     10,   30};

struct series {
    char labels[LABELS_MAX][LABEL_VALUE_MAX];
    uint64_t hash;
    atomic_uint_fast64_t count;                 /* counter value, or histogram observations */
    atomic_uint_fast64_t value_bits;            /* gauge value, or histogram sum, as double bits */
    atomic_uint_fast64_t buckets[BUCKET_COUNT]; /* histogram, not cumulative */
};

struct metric {
    const char *name;
    const char *help;
    enum metric_kind kind;
    int label_count;
    const char *label_names[LABELS_MAX];
    pthread_mutex_t create_lock;
    atomic_int full_reported;
    _Atomic(struct series *) slots[SERIES_MAX];
};

static struct metric catalog[METRIC_COUNT] = {
    [METRIC_UPDATES] = {"jarvis_updates_total",
                        "Updates from the transport by outcome (handled, skipped, poison, bad).",
                        KIND_COUNTER,
                        1,
                        {"outcome"},
                        PTHREAD_MUTEX_INITIALIZER},
    [METRIC_MESSAGES_SENT] = {"jarvis_messages_sent_total",
                              "Message parts the transport delivered.",
                              KIND_COUNTER,
                              0,
                              {0},
                              PTHREAD_MUTEX_INITIALIZER},
    [METRIC_SEND_ERRORS] = {"jarvis_send_errors_total",
                            "Failed sends by kind (429, 5xx, timeout, network, refused, ...).",
                            KIND_COUNTER,
                            1,
                            {"kind"},
                            PTHREAD_MUTEX_INITIALIZER},
    [METRIC_POLL_ERRORS] = {"jarvis_telegram_poll_errors_total",
                            "Failed getUpdates polls by kind (429, 5xx, timeout, conflict, ...).",
                            KIND_COUNTER,
                            1,
                            {"kind"},
                            PTHREAD_MUTEX_INITIALIZER},
    [METRIC_HANDLER_DURATION] = {"jarvis_handler_duration_seconds",
                                 "Time plugin handlers ran per update, by plugin and command.",
                                 KIND_HISTOGRAM,
                                 2,
                                 {"plugin", "command"},
                                 PTHREAD_MUTEX_INITIALIZER},
    [METRIC_INBOX_DEPTH] = {"jarvis_inbox_depth",
                            "Updates accepted and not yet handled.",
                            KIND_GAUGE,
                            0,
                            {0},
                            PTHREAD_MUTEX_INITIALIZER},
    [METRIC_OUTBOX_DEPTH] = {"jarvis_outbox_depth",
                             "Reply parts waiting to be sent.",
                             KIND_GAUGE,
                             0,
                             {0},
                             PTHREAD_MUTEX_INITIALIZER},
    [METRIC_PLUGINS_LOADED] = {"jarvis_plugins_loaded",
                               "Plugins loaded and running.",
                               KIND_GAUGE,
                               0,
                               {0},
                               PTHREAD_MUTEX_INITIALIZER},
    [METRIC_BUILD_INFO] = {"jarvis_build_info",
                           "Always 1; the version is in the label.",
                           KIND_GAUGE,
                           1,
                           {"version"},
                           PTHREAD_MUTEX_INITIALIZER},
    [METRIC_PROCESS_START] = {"process_start_time_seconds",
                              "Start time of the process since the Unix epoch in seconds.",
                              KIND_GAUGE,
                              0,
                              {0},
                              PTHREAD_MUTEX_INITIALIZER},
    [METRIC_PLUGIN_HTTP] = {"jarvis_plugin_http_requests_total",
                            "HTTP requests plugins made through the host, by status class.",
                            KIND_COUNTER,
                            2,
                            {"plugin", "status_class"},
                            PTHREAD_MUTEX_INITIALIZER},
    [METRIC_STORE_COMMITS] = {"jarvis_store_commits_total",
                              "Pipeline commits (a group of handled commits and sent marks, or one "
                              "alone) by what ended them.",
                              KIND_COUNTER,
                              1,
                              {"why"},
                              PTHREAD_MUTEX_INITIALIZER},
    [METRIC_STORE_UNITS] = {"jarvis_store_units_total",
                            "Handled commits and sent marks written to the store, by kind.",
                            KIND_COUNTER,
                            1,
                            {"kind"},
                            PTHREAD_MUTEX_INITIALIZER},
};

/* ---- atomics on doubles ---- */

static uint64_t double_bits(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static double bits_double(uint64_t bits)
{
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static void atomic_add_double(atomic_uint_fast64_t *target, double amount)
{
    uint_fast64_t seen = atomic_load(target);
    while (!atomic_compare_exchange_weak(target, &seen, double_bits(bits_double(seen) + amount))) {
    }
}

/* ---- finding series ---- */

struct label_key {
    char values[LABELS_MAX][LABEL_VALUE_MAX];
    uint64_t hash;
};

/* FNV-1a over the values, each ended by its NUL. */
static void make_key(const struct metric *metric, const char *label_a, const char *label_b,
                     struct label_key *key)
{
    const char *given[LABELS_MAX] = {label_a, label_b};
    memset(key, 0, sizeof *key);
    key->hash = 14695981039346656037ULL;
    for (int i = 0; i < metric->label_count; i++) {
        /* cut as snprintf would, without its cost on every count */
        const char *value = given[i] != NULL ? given[i] : "";
        memcpy(key->values[i], value, strnlen(value, LABEL_VALUE_MAX - 1));
        for (const char *p = key->values[i];; p++) {
            key->hash = (key->hash ^ (unsigned char)*p) * 1099511628211ULL;
            if (*p == '\0')
                break;
        }
    }
}

static int series_matches(const struct series *series, const struct label_key *key)
{
    return series->hash == key->hash &&
           memcmp(series->labels, key->values, sizeof series->labels) == 0;
}

/* The series' slot, or the first empty slot of its probe run; -1 when full. */
static int probe(struct metric *metric, const struct label_key *key, struct series **found)
{
    for (size_t step = 0; step < SERIES_MAX; step++) {
        size_t slot = (key->hash + step) % SERIES_MAX;
        struct series *series = atomic_load_explicit(&metric->slots[slot], memory_order_acquire);
        if (series == NULL || series_matches(series, key)) {
            *found = series;
            return (int)slot;
        }
    }
    *found = NULL;
    return -1;
}

static struct series *create_series(struct metric *metric, const struct label_key *key)
{
    pthread_mutex_lock(&metric->create_lock);
    struct series *series = NULL;
    int slot = probe(metric, key, &series); /* again: another thread may have made it */
    if (series == NULL && slot >= 0) {
        series = calloc(1, sizeof *series);
        if (series != NULL) {
            memcpy(series->labels, key->values, sizeof series->labels);
            series->hash = key->hash;
            atomic_store_explicit(&metric->slots[slot], series, memory_order_release);
        }
    }
    pthread_mutex_unlock(&metric->create_lock);
    if (series == NULL && slot < 0 && atomic_exchange(&metric->full_reported, 1) == 0)
        log_warn("metrics: %s has %d label combinations; further ones are not recorded",
                 metric->name, SERIES_MAX);
    return series;
}

static struct series *find_series(enum metric_id id, const char *label_a, const char *label_b,
                                  int create)
{
    if ((unsigned)id >= METRIC_COUNT)
        return NULL;
    struct metric *metric = &catalog[id];
    struct label_key key;
    make_key(metric, label_a, label_b, &key);
    struct series *series = NULL;
    probe(metric, &key, &series);
    if (series == NULL && create)
        series = create_series(metric, &key);
    return series;
}

/* ---- updating ---- */

void metrics_count(enum metric_id id, const char *label_a, const char *label_b)
{
    struct series *series = find_series(id, label_a, label_b, 1);
    if (series != NULL && catalog[id].kind == KIND_COUNTER)
        atomic_fetch_add_explicit(&series->count, 1, memory_order_relaxed);
}

void metrics_set(enum metric_id id, double value)
{
    struct series *series = find_series(id, NULL, NULL, 1);
    if (series != NULL && catalog[id].kind == KIND_GAUGE)
        atomic_store_explicit(&series->value_bits, double_bits(value), memory_order_relaxed);
}

void metrics_observe(enum metric_id id, const char *label_a, const char *label_b, double value)
{
    struct series *series = find_series(id, label_a, label_b, 1);
    if (series == NULL || catalog[id].kind != KIND_HISTOGRAM || isnan(value))
        return;
    size_t bucket = 0;
    while (bucket < BUCKET_COUNT && value > duration_buckets[bucket])
        bucket++;
    if (bucket < BUCKET_COUNT)
        atomic_fetch_add_explicit(&series->buckets[bucket], 1, memory_order_relaxed);
    atomic_add_double(&series->value_bits, value);
    atomic_fetch_add_explicit(&series->count, 1, memory_order_relaxed);
}

static double series_value(const struct metric *metric, struct series *series)
{
    if (metric->kind == KIND_GAUGE)
        return bits_double(atomic_load(&series->value_bits));
    return (double)atomic_load(&series->count);
}

double metrics_value(enum metric_id id, const char *label_a, const char *label_b)
{
    struct series *series = find_series(id, label_a, label_b, 0);
    return series != NULL ? series_value(&catalog[id], series) : 0;
}

void metrics_init(const char *version, double process_start_seconds)
{
    static const char *const outcomes[] = {"handled", "skipped", "poison", "bad"};
    for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++)
        find_series(METRIC_UPDATES, outcomes[i], NULL, 1);
    find_series(METRIC_MESSAGES_SENT, NULL, NULL, 1);
    metrics_set(METRIC_INBOX_DEPTH, 0);
    metrics_set(METRIC_OUTBOX_DEPTH, 0);
    metrics_set(METRIC_PLUGINS_LOADED, 0);
    struct series *build = find_series(METRIC_BUILD_INFO, version, NULL, 1);
    if (build != NULL)
        atomic_store(&build->value_bits, double_bits(1));
    metrics_set(METRIC_PROCESS_START, process_start_seconds);
}

/* ---- reading: series in a stable order ---- */

static int compare_series(const void *left, const void *right)
{
    const struct series *a = *(struct series *const *)left;
    const struct series *b = *(struct series *const *)right;
    return memcmp(a->labels, b->labels, sizeof a->labels);
}

/* The metric's series sorted by label values; count in *count. */
static size_t sorted_series(struct metric *metric, struct series **out)
{
    size_t count = 0;
    for (size_t slot = 0; slot < SERIES_MAX; slot++) {
        struct series *series = atomic_load_explicit(&metric->slots[slot], memory_order_acquire);
        if (series != NULL)
            out[count++] = series;
    }
    qsort(out, count, sizeof *out, compare_series);
    return count;
}

void metrics_for_each_counter(metrics_visit_fn visit, void *context)
{
    struct series *series[SERIES_MAX];
    for (int id = 0; id < METRIC_COUNT; id++) {
        struct metric *metric = &catalog[id];
        if (metric->kind != KIND_COUNTER)
            continue;
        size_t count = sorted_series(metric, series);
        for (size_t i = 0; i < count; i++)
            visit(metric->name, metric->label_count > 0 ? metric->label_names[0] : NULL,
                  metric->label_count > 0 ? series[i]->labels[0] : NULL,
                  metric->label_count > 1 ? metric->label_names[1] : NULL,
                  metric->label_count > 1 ? series[i]->labels[1] : NULL,
                  (double)atomic_load(&series[i]->count), context);
    }
}

/* ---- the text exposition format ---- */

/* HELP text escapes \ and newline; label values also escape ". */
static void write_escaped(FILE *out, const char *text, int escape_quote)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '"' && escape_quote)
            fputs("\\\"", out);
        else
            fputc(*p, out);
    }
}

static void write_number(FILE *out, double value)
{
    if (isnan(value))
        fputs("NaN", out);
    else if (isinf(value))
        fputs(value > 0 ? "+Inf" : "-Inf", out);
    else if (value == floor(value) && fabs(value) < 1e15)
        fprintf(out, "%.0f", value);
    else
        fprintf(out, "%.17g", value);
}

/* {a="x",b="y",le="0.5"}; nothing at all without labels. */
static void write_labels(FILE *out, const struct metric *metric, const struct series *series,
                         const char *le)
{
    if (metric->label_count == 0 && le == NULL)
        return;
    fputc('{', out);
    for (int i = 0; i < metric->label_count; i++) {
        fprintf(out, "%s%s=\"", i > 0 ? "," : "", metric->label_names[i]);
        write_escaped(out, series->labels[i], 1);
        fputc('"', out);
    }
    if (le != NULL)
        fprintf(out, "%sle=\"%s\"", metric->label_count > 0 ? "," : "", le);
    fputc('}', out);
}

static void write_histogram(FILE *out, const struct metric *metric, struct series *series)
{
    uint64_t cumulative = 0;
    char le[32];
    for (size_t bucket = 0; bucket < BUCKET_COUNT; bucket++) {
        cumulative += atomic_load(&series->buckets[bucket]);
        snprintf(le, sizeof le, "%g", duration_buckets[bucket]);
        fprintf(out, "%s_bucket", metric->name);
        write_labels(out, metric, series, le);
        fprintf(out, " %" PRIu64 "\n", cumulative);
    }
    /* count last: an observation racing the scrape is then in +Inf at most */
    uint64_t total = atomic_load(&series->count);
    fprintf(out, "%s_bucket", metric->name);
    write_labels(out, metric, series, "+Inf");
    fprintf(out, " %" PRIu64 "\n%s_sum", total > cumulative ? total : cumulative, metric->name);
    write_labels(out, metric, series, NULL);
    fputc(' ', out);
    write_number(out, bits_double(atomic_load(&series->value_bits)));
    fprintf(out, "\n%s_count", metric->name);
    write_labels(out, metric, series, NULL);
    fprintf(out, " %" PRIu64 "\n", total > cumulative ? total : cumulative);
}

static void write_metric(FILE *out, struct metric *metric)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    fprintf(out, "# HELP %s ", metric->name);
    write_escaped(out, metric->help, 0);
    fprintf(out, "\n# TYPE %s %s\n", metric->name, type_names[metric->kind]);
    struct series *series[SERIES_MAX];
    size_t count = sorted_series(metric, series);
    for (size_t i = 0; i < count; i++) {
        if (metric->kind == KIND_HISTOGRAM) {
            write_histogram(out, metric, series[i]);
            continue;
        }
        fputs(metric->name, out);
        write_labels(out, metric, series[i], NULL);
        fputc(' ', out);
        write_number(out, series_value(metric, series[i]));
        fputc('\n', out);
    }
}

int metrics_render(FILE *out)
{
    for (int id = 0; id < METRIC_COUNT; id++)
        write_metric(out, &catalog[id]);
    return ferror(out) ? -1 : 0;
}
