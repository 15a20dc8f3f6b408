/* Per-chat memory of the last question dexter answered, so "and ETH?",
 * "what about its volume" or "how about bonk" read as follow-ups. Entries
 * expire; the table is small and bounded (the oldest entry gives way).
 * Thread-safe. */
#ifndef DEXTER_FOLLOW_UP_H
#define DEXTER_FOLLOW_UP_H

#include <stdint.h>

#include "intent.h"

typedef struct dexter_follow_ups dexter_follow_ups;

dexter_follow_ups *dexter_follow_ups_create(int64_t expiry_ms);
void dexter_follow_ups_destroy(dexter_follow_ups *memory);

/* Remembers what intent asked in chat_id at now_ms. */
void dexter_follow_ups_remember(dexter_follow_ups *memory, int64_t chat_id,
                                const dexter_intent *intent, int64_t now_ms);

/* Completes a follow-up from the chat's last question: the token when it
 * names none ("what about its volume"), the kind and window when it names
 * no cue ("and ETH?"). Returns 1 when it changed intent, 0 when there was
 * nothing (or nothing fresh) to complete from. */
int dexter_follow_ups_complete(dexter_follow_ups *memory, int64_t chat_id, dexter_intent *intent,
                               int64_t now_ms);

#endif
