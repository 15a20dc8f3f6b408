/* One kv record per UTC day, "ledger/YYYY-MM-DD", holding JSON
 * {"rating":{calls,searches,input_tokens,output_tokens},"narrative":{...},
 * "hours":[24 call counts]}. The current day is kept in memory and written
 * through on every change; the month is summed from the stored days. */
#include "grok_ledger.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char *const KIND_NAMES[GROK_CALL_KINDS] = {"rating", "narrative"};

static void utc_parts(int64_t now_ms, struct tm *parts)
{
    time_t seconds = (time_t)(now_ms / 1000);
    gmtime_r(&seconds, parts);
}

static void day_key(const char *day, char *key, size_t key_length)
{
    snprintf(key, key_length, "ledger/%s", day);
}

static int64_t read_count(const json_t *object, const char *field)
{
    const json_t *value = json_object_get(object, field);
    return json_is_integer(value) && json_integer_value(value) > 0 ? json_integer_value(value) : 0;
}

static void parse_totals(const json_t *object, struct grok_ledger_totals *totals)
{
    totals->calls = read_count(object, "calls");
    totals->searches = read_count(object, "searches");
    totals->input_tokens = read_count(object, "input_tokens");
    totals->output_tokens = read_count(object, "output_tokens");
}

static void add_totals(struct grok_ledger_totals *into, const struct grok_ledger_totals *more)
{
    into->calls += more->calls;
    into->searches += more->searches;
    into->input_tokens += more->input_tokens;
    into->output_tokens += more->output_tokens;
}

/* Fills kinds and hours from a stored day record (zeros when unreadable). */
static void parse_day(const char *text, size_t length, struct grok_ledger_totals *kinds,
                      int64_t *hours)
{
    memset(kinds, 0, sizeof(struct grok_ledger_totals) * GROK_CALL_KINDS);
    if (hours != NULL)
        memset(hours, 0, sizeof(int64_t) * 24);
    json_t *root = json_loadb(text, length, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    for (int kind = 0; kind < GROK_CALL_KINDS; kind++)
        parse_totals(json_object_get(root, KIND_NAMES[kind]), &kinds[kind]);
    const json_t *list = json_object_get(root, "hours");
    for (size_t hour = 0; hours != NULL && hour < 24 && hour < json_array_size(list); hour++) {
        const json_t *value = json_array_get(list, hour);
        hours[hour] = json_is_integer(value) ? json_integer_value(value) : 0;
    }
    json_decref(root);
}

static void load_day(struct grok_ledger *ledger, const char *day)
{
    snprintf(ledger->day, sizeof ledger->day, "%s", day);
    memset(ledger->kinds, 0, sizeof ledger->kinds);
    memset(ledger->hour_calls, 0, sizeof ledger->hour_calls);
    char key[32], *value = NULL;
    size_t length = 0;
    day_key(day, key, sizeof key);
    if (ledger->api->kv_get(ledger->self, key, &value, &length) != JV_OK)
        return;
    parse_day(value, length, ledger->kinds, ledger->hour_calls);
    ledger->api->free(value);
}

static void save_day(struct grok_ledger *ledger)
{
    json_t *root = json_object();
    for (int kind = 0; kind < GROK_CALL_KINDS; kind++) {
        const struct grok_ledger_totals *totals = &ledger->kinds[kind];
        json_object_set_new(root, KIND_NAMES[kind],
                            json_pack("{s:I, s:I, s:I, s:I}", "calls", (json_int_t)totals->calls,
                                      "searches", (json_int_t)totals->searches, "input_tokens",
                                      (json_int_t)totals->input_tokens, "output_tokens",
                                      (json_int_t)totals->output_tokens));
    }
    json_t *hours = json_array();
    for (int hour = 0; hour < 24; hour++)
        json_array_append_new(hours, json_integer(ledger->hour_calls[hour]));
    json_object_set_new(root, "hours", hours);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        return;
    char key[32];
    day_key(ledger->day, key, sizeof key);
    if (ledger->api->kv_set(ledger->self, key, text, strlen(text)) != JV_OK)
        ledger->api->log(ledger->self, JV_LOG_WARN, "cannot store the cost ledger for %s",
                         ledger->day);
    free(text);
}

/* Rolls the in-memory day over at UTC midnight; returns the current hour. */
static int current_hour(struct grok_ledger *ledger)
{
    struct tm parts;
    utc_parts(ledger->api->now_ms(), &parts);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", &parts);
    if (strcmp(day, ledger->day) != 0)
        load_day(ledger, day);
    return parts.tm_hour;
}

void grok_ledger_init(struct grok_ledger *ledger, const jv_host_api *api, jv_plugin *self,
                      const struct grok_budgets *budgets)
{
    memset(ledger, 0, sizeof *ledger);
    ledger->api = api;
    ledger->self = self;
    ledger->budgets = *budgets;
    pthread_mutex_init(&ledger->lock, NULL);
    current_hour(ledger);
}

void grok_ledger_destroy(struct grok_ledger *ledger)
{
    pthread_mutex_destroy(&ledger->lock);
}

static void today_sum(const struct grok_ledger *ledger, struct grok_ledger_totals *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int kind = 0; kind < GROK_CALL_KINDS; kind++)
        add_totals(sum, &ledger->kinds[kind]);
}

/* Under the lock. */
static int over_budget(struct grok_ledger *ledger, int hour, char *reason, size_t reason_length)
{
    struct grok_ledger_totals today;
    today_sum(ledger, &today);
    const struct grok_budgets *budgets = &ledger->budgets;
    if (budgets->daily_calls > 0 && today.calls >= budgets->daily_calls) {
        snprintf(reason, reason_length,
                 "Grok's daily budget of %lld calls is used up; it resets at 00:00 UTC",
                 (long long)budgets->daily_calls);
        return 1;
    }
    if (budgets->daily_searches > 0 && today.searches >= budgets->daily_searches) {
        snprintf(reason, reason_length,
                 "Grok's daily budget of %lld X searches is used up; it resets at 00:00 UTC",
                 (long long)budgets->daily_searches);
        return 1;
    }
    if (budgets->hourly_calls > 0 && ledger->hour_calls[hour] >= budgets->hourly_calls) {
        snprintf(reason, reason_length,
                 "Grok's hourly budget of %lld calls is used up; try again next hour",
                 (long long)budgets->hourly_calls);
        return 1;
    }
    return 0;
}

int grok_ledger_reserve(struct grok_ledger *ledger, enum grok_call_kind kind, char *reason,
                        size_t reason_length)
{
    pthread_mutex_lock(&ledger->lock);
    int hour = current_hour(ledger);
    int refused = over_budget(ledger, hour, reason, reason_length);
    if (!refused) {
        ledger->kinds[kind].calls++;
        ledger->hour_calls[hour]++;
        save_day(ledger);
    }
    pthread_mutex_unlock(&ledger->lock);
    return refused ? -1 : 0;
}

void grok_ledger_check(struct grok_ledger *ledger, char *reason, size_t reason_length)
{
    pthread_mutex_lock(&ledger->lock);
    int hour = current_hour(ledger);
    if (!over_budget(ledger, hour, reason, reason_length) && reason_length > 0)
        reason[0] = '\0';
    pthread_mutex_unlock(&ledger->lock);
}

void grok_ledger_record(struct grok_ledger *ledger, enum grok_call_kind kind,
                        const struct grok_usage *usage)
{
    pthread_mutex_lock(&ledger->lock);
    current_hour(ledger);
    struct grok_ledger_totals *totals = &ledger->kinds[kind];
    totals->searches += usage->billed_searches;
    totals->input_tokens += usage->input_tokens;
    totals->output_tokens += usage->output_tokens;
    save_day(ledger);
    pthread_mutex_unlock(&ledger->lock);
}

struct month_sum {
    struct grok_ledger_totals *sum;
};

static int add_stored_day(const char *key, const void *value, size_t value_length, void *user_data)
{
    (void)key;
    struct month_sum *month = user_data;
    struct grok_ledger_totals kinds[GROK_CALL_KINDS];
    parse_day(value, value_length, kinds, NULL);
    for (int kind = 0; kind < GROK_CALL_KINDS; kind++)
        add_totals(month->sum, &kinds[kind]);
    return 0;
}

void grok_ledger_kind_today(struct grok_ledger *ledger, enum grok_call_kind kind,
                            struct grok_ledger_totals *today)
{
    pthread_mutex_lock(&ledger->lock);
    current_hour(ledger);
    *today = ledger->kinds[kind];
    pthread_mutex_unlock(&ledger->lock);
}

void grok_ledger_totals(struct grok_ledger *ledger, struct grok_ledger_totals *today,
                        struct grok_ledger_totals *month)
{
    pthread_mutex_lock(&ledger->lock);
    current_hour(ledger);
    today_sum(ledger, today);
    char prefix[24];
    snprintf(prefix, sizeof prefix, "ledger/%.7s", ledger->day); /* "ledger/YYYY-MM" */
    memset(month, 0, sizeof *month);
    struct month_sum visit = {month};
    ledger->api->kv_list(ledger->self, prefix, add_stored_day, &visit);
    pthread_mutex_unlock(&ledger->lock);
}
