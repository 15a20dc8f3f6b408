/* The process's metrics: a fixed catalog of counters, gauges and histograms
 * with up to two labels each, updated with atomics (no lock once a label
 * combination exists) and rendered in the Prometheus text format for GET
 * /metrics and for `jarvis status`. Label values must never carry a secret:
 * callers pass plugin and command names and fixed kinds only. */
#ifndef JARVIS_METRICS_H
#define JARVIS_METRICS_H

#include <stdint.h>
#include <stdio.h>

enum metric_id {
    METRIC_UPDATES,          /* counter {outcome}: handled, skipped, poison, bad */
    METRIC_MESSAGES_SENT,    /* counter */
    METRIC_SEND_ERRORS,      /* counter {kind} */
    METRIC_POLL_ERRORS,      /* counter {kind} */
    METRIC_HANDLER_DURATION, /* histogram {plugin, command}, seconds */
    METRIC_INBOX_DEPTH,      /* gauge */
    METRIC_OUTBOX_DEPTH,     /* gauge */
    METRIC_PLUGINS_LOADED,   /* gauge */
    METRIC_BUILD_INFO,       /* gauge {version}, always 1 */
    METRIC_PROCESS_START,    /* gauge, unix seconds */
    METRIC_PLUGIN_HTTP,      /* counter {plugin, status_class} */
    METRIC_STORE_COMMITS,    /* counter {why}: the pipeline's SQLite commits, by what ended them */
    METRIC_STORE_UNITS,      /* counter {kind}: handled commits and sent marks written */
    METRIC_COUNT
};

/* Once, before other threads use the registry: the start time, the build
 * info and the zero series every scrape should show. */
void metrics_init(const char *version, double process_start_seconds);

/* Labels beyond the metric's own count are ignored; NULL reads as "". */
void metrics_count(enum metric_id id, const char *label_a, const char *label_b);
void metrics_set(enum metric_id id, double value);
void metrics_observe(enum metric_id id, const char *label_a, const char *label_b, double value);

/* The value of a counter or gauge series (0 when it does not exist). */
double metrics_value(enum metric_id id, const char *label_a, const char *label_b);

/* Visits every counter series: its metric name, label name and value pairs
 * ("outcome", "handled"; NULL when absent) and value. For status. */
typedef void (*metrics_visit_fn)(const char *name, const char *label_a_name, const char *label_a,
                                 const char *label_b_name, const char *label_b, double value,
                                 void *context);
void metrics_for_each_counter(metrics_visit_fn visit, void *context);

/* Text exposition format 0.0.4. 0, or -1 when out of memory / a write failed. */
int metrics_render(FILE *out);

#endif
