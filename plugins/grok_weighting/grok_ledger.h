/* The xAI cost ledger and budgets: every call's count, tokens and billed
 * searches per UTC day and per kind (rating, narrative) in the plugin's kv
 * store, so the figures survive a restart; daily (calls, searches) and
 * hourly (calls) budgets refuse new calls with a one-line reason. */
#ifndef GROK_LEDGER_H
#define GROK_LEDGER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

#include "grok_response.h"

enum grok_call_kind { GROK_CALL_RATING = 0, GROK_CALL_NARRATIVE = 1, GROK_CALL_KINDS = 2 };

struct grok_ledger_totals {
    int64_t calls;
    int64_t searches;
    int64_t input_tokens;
    int64_t output_tokens;
};

struct grok_budgets {
    int64_t daily_calls;    /* 0: no limit */
    int64_t daily_searches; /* 0: no limit */
    int64_t hourly_calls;   /* 0: no limit */
};

struct grok_ledger {
    const jv_host_api *api;
    jv_plugin *self;
    struct grok_budgets budgets;
    pthread_mutex_t lock;
    char day[16]; /* "YYYY-MM-DD" the totals below belong to */
    struct grok_ledger_totals kinds[GROK_CALL_KINDS];
    int64_t hour_calls[24];
};

void grok_ledger_init(struct grok_ledger *ledger, const jv_host_api *api, jv_plugin *self,
                      const struct grok_budgets *budgets);
void grok_ledger_destroy(struct grok_ledger *ledger);

/* Before a call: 0 and the call counted, or -1 and a reason when a budget
 * is used up. */
int grok_ledger_reserve(struct grok_ledger *ledger, enum grok_call_kind kind, char *reason,
                        size_t reason_length);

/* After a call that was answered: its tokens and billed searches. */
void grok_ledger_record(struct grok_ledger *ledger, enum grok_call_kind kind,
                        const struct grok_usage *usage);

/* Today's and this month's totals, for /grok usage. */
void grok_ledger_totals(struct grok_ledger *ledger, struct grok_ledger_totals *today,
                        struct grok_ledger_totals *month);

/* Today's totals of one kind: the split between ratings and narratives. */
void grok_ledger_kind_today(struct grok_ledger *ledger, enum grok_call_kind kind,
                            struct grok_ledger_totals *today);

/* The reason reserve would give now, or "" when a call may be made. */
void grok_ledger_check(struct grok_ledger *ledger, char *reason, size_t reason_length);

#endif
