/* The buttons under a one-token outlook answer: [24h] [7d] [30d] [Chart],
 * their callback data ("dexter:o:7d:SOL", "dexter:c:7d:SOL") and reading
 * that data back when a button is pressed. No host calls. */
#ifndef DEXTER_OUTLOOK_BUTTONS_H
#define DEXTER_OUTLOOK_BUTTONS_H

#include <jarvis/plugin.h>

#include "intent.h"

#define DEXTER_CALLBACK_PREFIX "dexter:"
#define DEXTER_OUTLOOK_BUTTON_COUNT 4

typedef struct dexter_outlook_buttons {
    jv_button buttons[DEXTER_OUTLOOK_BUTTON_COUNT];
    char data[DEXTER_OUTLOOK_BUTTON_COUNT][JV_CALLBACK_DATA_MAX + 1];
} dexter_outlook_buttons;

/* 1 when the answer to intent gets buttons (an outlook of one token). */
int dexter_outlook_has_buttons(const dexter_intent *intent);

/* Fills the keyboard for token; the [Chart] button charts chart_period
 * ("24h", "7d", "30d"). The buttons point into *out: keep it alive. */
void dexter_outlook_buttons_build(const dexter_token *token, const char *chart_period,
                                  dexter_outlook_buttons *out);

typedef enum dexter_press_kind { DEXTER_PRESS_OUTLOOK, DEXTER_PRESS_CHART } dexter_press_kind;

typedef struct dexter_press {
    dexter_press_kind kind;
    const dexter_token *token; /* borrowed from the map */
    int period_days;           /* 1, 7 or 30 */
    char period[8];            /* "24h", "7d", "30d" */
} dexter_press;

/* 0, or -1 for data this version does not know (forged, stale, a token no
 * longer configured). */
int dexter_press_read(const char *data, const dexter_token_map *tokens, dexter_press *press);

/* The one-token outlook intent for a pressed period. */
void dexter_press_intent(const dexter_press *press, dexter_intent *intent);

#endif
