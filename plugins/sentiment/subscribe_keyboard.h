/* The /subscribe keyboard: a row of report intervals, then a toggle per
 * tracked token, each marked when it is on; their callback data
 * ("sentiment:i:<ms>", "sentiment:t:<SYMBOL>") and reading a press back.
 * The data names the choice itself, so a press needs nothing remembered
 * about the message it is on (and survives a restart). No host calls. */
#ifndef SENTIMENT_SUBSCRIBE_KEYBOARD_H
#define SENTIMENT_SUBSCRIBE_KEYBOARD_H

#include <jarvis/plugin.h>

#include "state.h"
#include "subscriptions.h"

#define SENTIMENT_CALLBACK_PREFIX "sentiment:"
#define SENTIMENT_KEYBOARD_MAX (SENTIMENT_INTERVAL_CHOICES + SENTIMENT_MAX_TOKENS)
#define SENTIMENT_BUTTON_TEXT_MAX 48

typedef struct sentiment_keyboard {
    jv_button buttons[SENTIMENT_KEYBOARD_MAX];
    char data[SENTIMENT_KEYBOARD_MAX][JV_CALLBACK_DATA_MAX + 1];
    char text[SENTIMENT_KEYBOARD_MAX][SENTIMENT_BUTTON_TEXT_MAX];
    size_t count;
} sentiment_keyboard;

/* Fills the keyboard for the chat's subscription; the buttons point into
 * *out: keep it alive while they are used. */
void sentiment_keyboard_build(const sentiment_state *state,
                              const sentiment_subscription *subscription, sentiment_keyboard *out);

typedef enum sentiment_press_kind {
    SENTIMENT_PRESS_INTERVAL,
    SENTIMENT_PRESS_TOKEN
} sentiment_press_kind;

typedef struct sentiment_press {
    sentiment_press_kind kind;
    int64_t interval_ms; /* SENTIMENT_PRESS_INTERVAL: an offered interval */
    size_t token;        /* SENTIMENT_PRESS_TOKEN: a tracked token's index */
} sentiment_press;

/* 0, or -1 for data this version does not offer (forged, garbage, a token
 * no longer tracked, an interval no longer offered) with the toast that
 * says so in *problem (a static string). */
int sentiment_press_read(const sentiment_state *state, const char *data, sentiment_press *press,
                         const char **problem);

/* "1h", "4h", or "300ms" for a test interval that is not whole seconds. */
void sentiment_format_interval(int64_t milliseconds, char *out, size_t size);

#endif
