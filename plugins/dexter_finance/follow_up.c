/* The per-chat follow-up memory (see follow_up.h). */
#include "follow_up.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FOLLOW_UP_CHATS 128

typedef struct remembered {
    int64_t chat_id;
    int64_t at_ms; /* 0: free slot */
    dexter_intent intent;
} remembered;

struct dexter_follow_ups {
    pthread_mutex_t lock;
    int64_t expiry_ms;
    remembered chats[FOLLOW_UP_CHATS];
};

dexter_follow_ups *dexter_follow_ups_create(int64_t expiry_ms)
{
    dexter_follow_ups *memory = calloc(1, sizeof *memory);
    if (!memory)
        return NULL;
    pthread_mutex_init(&memory->lock, NULL);
    memory->expiry_ms = expiry_ms;
    return memory;
}

void dexter_follow_ups_destroy(dexter_follow_ups *memory)
{
    if (!memory)
        return;
    pthread_mutex_destroy(&memory->lock);
    free(memory);
}

static remembered *slot_for(dexter_follow_ups *memory, int64_t chat_id)
{
    remembered *oldest = &memory->chats[0];
    for (size_t i = 0; i < FOLLOW_UP_CHATS; i++) {
        remembered *slot = &memory->chats[i];
        if (slot->at_ms != 0 && slot->chat_id == chat_id)
            return slot;
        if (slot->at_ms < oldest->at_ms)
            oldest = slot;
    }
    return oldest;
}

void dexter_follow_ups_remember(dexter_follow_ups *memory, int64_t chat_id,
                                const dexter_intent *intent, int64_t now_ms)
{
    if (!memory || intent->token_count == 0)
        return;
    pthread_mutex_lock(&memory->lock);
    remembered *slot = slot_for(memory, chat_id);
    slot->chat_id = chat_id;
    slot->at_ms = now_ms > 0 ? now_ms : 1;
    slot->intent = *intent;
    pthread_mutex_unlock(&memory->lock);
}

int dexter_follow_ups_complete(dexter_follow_ups *memory, int64_t chat_id, dexter_intent *intent,
                               int64_t now_ms)
{
    if (!memory)
        return 0;
    int changed = 0;
    pthread_mutex_lock(&memory->lock);
    remembered *slot = slot_for(memory, chat_id);
    int fresh =
        slot->at_ms != 0 && slot->chat_id == chat_id && now_ms - slot->at_ms <= memory->expiry_ms;
    if (fresh) {
        const dexter_intent *last = &slot->intent;
        if (intent->token_count == 0) {
            intent->token_count = last->kind == DEXTER_INTENT_COMPARE ? last->token_count : 1;
            memcpy(intent->tokens, last->tokens, sizeof intent->tokens);
            changed = 1;
        }
        if (!intent->kind_explicit && (intent->follow_up || changed)) {
            intent->kind = last->kind == DEXTER_INTENT_COMPARE && intent->token_count < 2
                               ? DEXTER_INTENT_CHANGE
                               : last->kind;
            if (!intent->period_explicit) {
                intent->period_days = last->period_days;
                intent->period_hours = last->period_hours;
                intent->period_ytd = last->period_ytd;
            }
            changed = 1;
        }
    }
    pthread_mutex_unlock(&memory->lock);
    return changed;
}
