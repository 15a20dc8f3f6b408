/* The narrative cache: a plain completion over computed facts depends only
 * on its prompt (the token and the facts text), so answers are kept by a
 * hash of the prompt for a TTL and the same facts never pay twice. */
#ifndef GROK_NARRATIVES_H
#define GROK_NARRATIVES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define GROK_NARRATIVES_MAX 64
#define GROK_NARRATIVE_SIZE 1600

struct grok_narrative_entry {
    uint64_t hash; /* FNV-1a of the prompt; 0: empty slot */
    size_t prompt_length;
    int64_t stored_at_ms;
    char text[GROK_NARRATIVE_SIZE];
};

struct grok_narratives {
    pthread_mutex_t lock;
    int64_t ttl_ms; /* 0: nothing is kept */
    struct grok_narrative_entry entries[GROK_NARRATIVES_MAX];
};

void grok_narratives_init(struct grok_narratives *cache, int64_t ttl_ms);
void grok_narratives_destroy(struct grok_narratives *cache);

/* 1 and the kept text copied into out when prompt was answered within the
 * TTL; 0 otherwise. */
int grok_narratives_find(struct grok_narratives *cache, const char *prompt, int64_t now_ms,
                         char *out, size_t out_length);

/* Keeps a successful answer (replacing the oldest entry when full). */
void grok_narratives_store(struct grok_narratives *cache, const char *prompt, const char *text,
                           int64_t now_ms);

#endif
