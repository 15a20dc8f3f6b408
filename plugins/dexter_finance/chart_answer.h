/* The /chart command of dexter_finance: reading "/chart SOL [24h|7d|30d|90d]",
 * fetching the series through the market, the caption with the period's
 * figures, and the picture (chart.c). No host calls: the plugin sends. */
#ifndef DEXTER_CHART_ANSWER_H
#define DEXTER_CHART_ANSWER_H

#include "answer.h"
#include "chart.h"

#define DEXTER_CHART_USAGE "/chart <token> [24h|7d|30d|90d]"

typedef struct dexter_chart_request {
    const dexter_token *token; /* borrowed from the map */
    int period_days;           /* 1, 7, 30 or 90 */
    char period[8];            /* "24h", "7d", "30d", "90d" */
} dexter_chart_request;

/* Token and period in either order; the period defaults to 7d. 0, or -1
 * with *reply a malloc'd answer saying what is wrong (usage, an unknown
 * period, an unknown token with a suggestion; NULL when out of memory). */
int dexter_chart_read_request(const dexter_answer_context *context, int argc,
                              const char *const *argv, dexter_chart_request *request, char **reply);

typedef struct dexter_chart_answer {
    char *caption;        /* malloc'd; NULL when out of memory */
    dexter_chart_png png; /* drawn only when asked; empty otherwise */
} dexter_chart_answer;

/* 0: the caption holds the period's figures (and png the picture when
 * draw); -1: the caption says why there is no chart ("market data
 * unavailable (...)"). Free with dexter_chart_answer_free either way. */
int dexter_chart_answer_build(const dexter_answer_context *context,
                              const dexter_chart_request *request, int draw,
                              dexter_chart_answer *answer);
void dexter_chart_answer_free(dexter_chart_answer *answer);

#endif
