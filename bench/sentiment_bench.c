/* Sentiment benchmark: scorer throughput on a generated corpus of chat lines
 * (messages per second), and what the chat watcher adds to each message:
 * mention detection + scoring + kv_set, once with an in-memory KV and once
 * with the real SQLite store (WAL, synchronous=FULL) under a temp dir.
 * Build and run: bench/sentiment_bench.sh (links the plugin and core archives). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jarvis/plugin.h>

#include "sentiment/commands.h"
#include "sentiment/scorer.h"
#include "sentiment/state.h"
#include "state/store.h"

#define CORPUS_LINES 5000
#define LINE_MAX_BYTES 512

static const char *const fillers[] = {
    "the", "team", "just", "shipped", "and", "I", "think", "price", "is", "going", "to", "be",
    "honestly", "lol", "guys", "this", "week", "chart", "looks", "today", "again", "what", "do",
    "you", "think", "about", "validators", "fees", "wallet", "update", "news", "from", "devs"};
static const char *const sentiment_words[] = {
    "good", "great", "bad", "terrible", "bullish", "bearish", "moon", "rug pull", "scam",
    "rekt", "HODL", "to the moon", "buy the dip", "dead cat bounce", "pumping", "dumping",
    "love", "hate", "amazing", "worst", "FUD", "wagmi", "ngmi", "ATH", "crash", "lambo"};
static const char *const modifiers[] = {"very", "not", "slightly", "extremely", "kind of",
                                        "never", "super", "", "", "", "", ""};
static const char *const tokens[] = {"$SOL", "SOL", "solana", "BTC", "bitcoin", "$eth", "ETH",
                                     "", "", "", "", "", "", ""};
static const char *const emoji[] = {"🚀", "📈", "📉", "💀", "🔥", "💎🙌", "😭", "🤡", "", "", ""};
static const char *const endings[] = {"", "", "!", "!!!", "?", "??", ".", " but idk", ""};

static uint64_t random_state = 88172645463325252ULL;

static size_t pick(size_t count)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (size_t)(random_state % count);
}

#define PICK(list) list[pick(sizeof list / sizeof list[0])]

static void make_line(char *line, size_t size)
{
    size_t length = 0;
    size_t words = 4 + pick(14);
    for (size_t i = 0; i < words && length + 64 < size; i++) {
        size_t kind = pick(10);
        const char *word = kind < 6 ? PICK(fillers) : kind < 8 ? PICK(sentiment_words)
                                                  : kind < 9 ? PICK(tokens)
                                                             : PICK(emoji);
        if (kind == 6) {
            const char *modifier = PICK(modifiers);
            if (modifier[0] != '\0')
                length += (size_t)snprintf(line + length, size - length, "%s ", modifier);
        }
        if (word[0] != '\0')
            length += (size_t)snprintf(line + length, size - length, "%s ", word);
    }
    snprintf(line + length, size - length, "%s", PICK(endings));
}

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* ---- a minimal host table: KV in memory or in the real store ---- */

static struct store *real_store;
static size_t kv_writes;
static size_t kv_bytes;

static int memory_kv_set(jv_plugin *self, const char *key, const void *value, size_t length)
{
    (void)self;
    (void)value;
    kv_writes++;
    kv_bytes += strlen(key) + length;
    return JV_OK;
}

static int store_kv_set(jv_plugin *self, const char *key, const void *value, size_t length)
{
    (void)self;
    kv_writes++;
    return store_set(real_store, "sentiment", key, value, length) == 0 ? JV_OK : JV_E_IO;
}

static int64_t fake_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static const char *fake_strerror(int code)
{
    return code == JV_OK ? "ok" : "error";
}

static void fake_log(jv_plugin *self, int level, const char *format, ...)
{
    (void)self;
    (void)level;
    (void)format;
}

static void bench_scorer(const sentiment_lexicon *lexicon, char corpus[][LINE_MAX_BYTES],
                         int rounds)
{
    double total = 0;
    sentiment_score score;
    double started = seconds_now();
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < CORPUS_LINES; i++) {
            sentiment_score_text(lexicon, corpus[i], &score);
            total += score.compound;
        }
    }
    double elapsed = seconds_now() - started;
    double messages = (double)rounds * CORPUS_LINES;
    printf("scorer: %.0f messages/s (%.2f us/message; %d x %d lines; checksum %.3f)\n",
           messages / elapsed, elapsed / messages * 1e6, rounds, CORPUS_LINES, total);
}

static void bench_watcher(sentiment_state *state, char corpus[][LINE_MAX_BYTES], size_t count,
                          const char *label)
{
    kv_writes = 0;
    jv_message message = {.struct_size = sizeof message, .chat_id = -100123, .chat_type = "group"};
    double started = seconds_now();
    for (size_t i = 0; i < count; i++) {
        message.update_id = (int64_t)i;
        message.text = corpus[i % CORPUS_LINES];
        sentiment_watch_message(state->self, &message, state);
    }
    double elapsed = seconds_now() - started;
    printf("watcher (%s): %.2f us/message over %zu messages; %zu observations written "
           "(%.2f us each incl. scoring)\n",
           label, elapsed / (double)count * 1e6, count, kv_writes,
           kv_writes ? elapsed / (double)kv_writes * 1e6 : 0.0);
}

int main(int argc, char **argv)
{
    const char *lexicon_path = argc > 1 ? argv[1] : "plugins/sentiment/lexicon.txt";
    int rounds = argc > 2 ? atoi(argv[2]) : 40;
    char error[512];
    sentiment_lexicon *lexicon = sentiment_lexicon_load(lexicon_path, error, sizeof error);
    if (lexicon == NULL) {
        fprintf(stderr, "%s\n", error);
        return 1;
    }
    static char corpus[CORPUS_LINES][LINE_MAX_BYTES];
    size_t with_tokens = 0;
    for (size_t i = 0; i < CORPUS_LINES; i++)
        make_line(corpus[i], sizeof corpus[i]);

    jv_host_api api = {.struct_size = sizeof api, .free = free, .strerror = fake_strerror,
                       .log = fake_log, .kv_set = memory_kv_set, .now_ms = fake_now_ms};
    static sentiment_state state;
    static char handle;
    state.api = &api;
    state.self = (jv_plugin *)&handle;
    state.lexicon = lexicon;
    state.window_ms = 86400000;
    pthread_mutex_init(&state.lock, NULL);
    sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &state.tokens, error, sizeof error);
    unsigned char found[SENTIMENT_MAX_TOKENS];
    for (size_t i = 0; i < CORPUS_LINES; i++)
        with_tokens += sentiment_tokens_mentioned(&state.tokens, corpus[i], found) > 0;
    printf("corpus: %d generated chat lines, %zu mention a token; lexicon %zu entries\n",
           CORPUS_LINES, with_tokens, sentiment_lexicon_size(lexicon));
    printf("sample: %s\n        %s\n", corpus[0], corpus[1]);

    bench_scorer(lexicon, corpus, rounds);
    bench_watcher(&state, corpus, (size_t)CORPUS_LINES * 20, "in-memory KV");

    char directory[] = "/tmp/sentiment-bench-XXXXXX";
    if (mkdtemp(directory) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    real_store = store_open(directory, error, sizeof error);
    if (real_store == NULL) {
        fprintf(stderr, "store: %s\n", error);
        return 1;
    }
    api.kv_set = store_kv_set;
    bench_watcher(&state, corpus, 2000, "SQLite store, synchronous=FULL");
    store_close(real_store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", directory);
    sentiment_lexicon_free(lexicon);
    pthread_mutex_destroy(&state.lock);
    return 0;
}
