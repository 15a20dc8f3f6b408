/* Chats subscribed to the periodic report and what each chose, in the KV
 * store so they survive restarts: "sub/<chat id>" holds the choice,
 * "last/<chat id>" the time of the chat's last report (written only by the
 * report job, so a button press and a report never overwrite each other). */
#ifndef SENTIMENT_SUBSCRIPTIONS_H
#define SENTIMENT_SUBSCRIPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

#include "state.h"

/* Record format: "2 <since ms> <interval ms> <SYM,SYM,...>", where interval
 * 0 means [sentiment] report_interval and tokens "*" mean report_tokens.
 * Before the buttons a record was only "<since ms>": it reads as the
 * defaults, with legacy set. */
typedef struct sentiment_subscription {
    int64_t chat_id;
    int64_t since_ms;
    int legacy;          /* an old record: its report clock starts with the plugin */
    int64_t interval_ms; /* 0: the configured default */
    int has_tokens;      /* 0: the configured report_tokens */
    unsigned char tokens[SENTIMENT_MAX_TOKENS]; /* tokens[i]: table token i is reported */
} sentiment_subscription;

/* Reads a record's value against the token table (symbols no longer tracked
 * are dropped; none left means the defaults). 0, or -1 for a value this
 * version cannot read (out then holds the defaults, legacy set). */
int sentiment_subscription_parse(const char *value, size_t length,
                                 const sentiment_token_table *table, sentiment_subscription *out);
/* Writes the record's value; -1 when it does not fit. */
int sentiment_subscription_format(const sentiment_subscription *subscription,
                                  const sentiment_token_table *table, char *out, size_t size);

#define SENTIMENT_INTERVAL_CHOICES 5

/* The intervals a chat may pick, shortest first: 1h, 4h, 12h, 24h, and the
 * configured default when it is none of those. Returns the count. */
size_t sentiment_interval_choices(const sentiment_state *state,
                                  int64_t choices[SENTIMENT_INTERVAL_CHOICES]);
/* 1 when milliseconds is one of them. */
int sentiment_interval_offered(const sentiment_state *state, int64_t milliseconds);

/* The chat's interval: its choice while that is still offered, else the default. */
int64_t sentiment_subscription_interval(const sentiment_state *state,
                                        const sentiment_subscription *subscription);
/* The token indexes its report covers, in table order; returns the count. */
size_t sentiment_subscription_tokens(const sentiment_state *state,
                                     const sentiment_subscription *subscription,
                                     size_t tokens[SENTIMENT_MAX_TOKENS]);

/* 1 added (with the defaults), 0 was already subscribed; *out holds the
 * chat's record either way. Or a negative JV_E_*. */
int sentiment_subscribe(sentiment_state *state, int64_t chat_id, sentiment_subscription *out);
/* JV_OK, JV_E_NOTFOUND (not subscribed), or another JV_E_*. */
int sentiment_subscription_load(sentiment_state *state, int64_t chat_id,
                                sentiment_subscription *out);
int sentiment_subscription_save(sentiment_state *state, const sentiment_subscription *subscription);
/* 1 removed, 0 was not subscribed, or a negative JV_E_*. */
int sentiment_unsubscribe(sentiment_state *state, int64_t chat_id);

/* Every subscription (malloc'd, free with free()). JV_OK or a JV_E_*. */
int sentiment_subscriptions_list(sentiment_state *state, sentiment_subscription **list,
                                 size_t *count);

/* The time of the chat's last report, 0 when none was sent. */
int64_t sentiment_last_report(sentiment_state *state, int64_t chat_id);
int sentiment_last_report_save(sentiment_state *state, int64_t chat_id, int64_t time_ms);

#endif
