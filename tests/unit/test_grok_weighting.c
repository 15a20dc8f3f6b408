/* Unit tests for the grok_weighting plugin's combine formula (against
 * hand-computed values) and its per-symbol cache (TTL on an injected clock,
 * failure holds, single flight with real threads). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jarvis/plugin.h>

#include "base/http.h"
#include "grok_weighting/grok_cache.h"
#include "grok_weighting/grok_client.h"
#include "grok_weighting/weighting.h"

#define EPSILON 1e-6

static const struct grok_weights DEFAULT_WEIGHTS = {.chat = 0.4, .grok = 0.3, .market = 0.3, .chat_full_samples = 50};

static jv_weight_component component(const char *name, double score, double confidence,
                                     int64_t samples)
{
    jv_weight_component value = {name, 1, score, confidence, samples};
    return value;
}

static jv_weight_component missing(const char *name)
{
    jv_weight_component value = {name, 0, 0.9, 1.0, 100};
    return value;
}

static void assert_close(double actual, double expected)
{
    if (fabs(actual - expected) > EPSILON)
        fail_msg("expected %.9f, got %.9f", expected, actual);
}

static void assert_weights_sum_to_one(const jv_weight_result *result)
{
    double sum = 0.0;
    for (size_t i = 0; i < result->count; i++)
        sum += result->weight[i];
    assert_close(sum, 1.0);
}

/* chat 0.5 @50 samples (factor 1) -> 0.4; grok -0.2 @0.5 -> 0.15;
 * market 0.8 @1 -> 0.3; total 0.85. */
static void test_all_present(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("chat", 0.5, 0, 50),
                                   component("grok", -0.2, 0.5, 0),
                                   component("market", 0.8, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 3, &result), JV_OK);
    assert_int_equal(result.count, 3);
    assert_close(result.weight[0], 0.4 / 0.85);
    assert_close(result.weight[1], 0.15 / 0.85);
    assert_close(result.weight[2], 0.3 / 0.85);
    assert_close(result.contribution[1], -0.2 * 0.15 / 0.85);
    assert_close(result.composite, 0.482352941);
    assert_close(result.confidence, 0.85);
    assert_weights_sum_to_one(&result);
}

/* Grok missing: chat 0.4 and market 0.3 renormalise to 4/7 and 3/7. */
static void test_one_missing_renormalises(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("chat", 0.5, 0, 50), missing("grok"),
                                   component("market", 0.8, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 3, &result), JV_OK);
    assert_close(result.weight[0], 4.0 / 7.0);
    assert_close(result.weight[1], 0.0);
    assert_close(result.contribution[1], 0.0);
    assert_close(result.weight[2], 3.0 / 7.0);
    assert_close(result.composite, 0.628571429);
    assert_close(result.confidence, 0.7);
    assert_weights_sum_to_one(&result);
}

static void test_all_missing(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {missing("chat"), missing("grok"), missing("market")};
    jv_weight_result result;
    memset(&result, 0x55, sizeof result);
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 3, &result), JV_OK);
    assert_int_equal(result.count, 3);
    assert_close(result.composite, 0.0);
    assert_close(result.confidence, 0.0);
    for (size_t i = 0; i < 3; i++) {
        assert_close(result.weight[i], 0.0);
        assert_close(result.contribution[i], 0.0);
    }
}

static void test_no_components(void **unused)
{
    (void)unused;
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, NULL, 0, &result), JV_OK);
    assert_int_equal(result.count, 0);
    assert_close(result.composite, 0.0);
    assert_close(result.confidence, 0.0);
}

static void test_zero_weights(void **unused)
{
    (void)unused;
    struct grok_weights nothing = {.chat_full_samples = 50};
    jv_weight_component input[] = {component("chat", 0.5, 0, 50),
                                   component("grok", 0.9, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&nothing, input, 2, &result), JV_OK);
    assert_close(result.composite, 0.0);
    assert_close(result.confidence, 0.0);

    /* w_grok = 0: a present Grok component takes no weight at all */
    struct grok_weights no_grok = {.chat = 0.5, .market = 0.5, .chat_full_samples = 50};
    assert_int_equal(grok_combine(&no_grok, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 1.0);
    assert_close(result.weight[1], 0.0);
    assert_close(result.composite, 0.5);
    assert_close(result.confidence, 0.5);
}

static void test_negative_weights_count_as_zero(void **unused)
{
    (void)unused;
    struct grok_weights odd = {.chat = -1.0, .grok = 0.3, .market = NAN, .chat_full_samples = 50};
    jv_weight_component input[] = {component("chat", 1.0, 0, 50),
                                   component("grok", -0.5, 1.0, 0),
                                   component("market", 1.0, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&odd, input, 3, &result), JV_OK);
    assert_close(result.weight[1], 1.0);
    assert_close(result.composite, -0.5);
    assert_close(result.confidence, 1.0);
}

/* 8 of 50 samples: sqrt(0.16) = 0.4, so chat weighs 0.4 * 0.4 = 0.16
 * against market's 0.3: composite (0.16*1 + 0.3*-0.5) / 0.46. */
static void test_chat_sample_scaling(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("chat", 1.0, 0.99, 8),
                                   component("market", -0.5, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 0.16 / 0.46);
    assert_close(result.composite, 0.01 / 0.46);
    assert_close(result.confidence, 0.46);

    assert_close(grok_component_factor(&DEFAULT_WEIGHTS, &input[0]), 0.4);
    jv_weight_component many = component("chat", 1.0, 0, 5000);
    assert_close(grok_component_factor(&DEFAULT_WEIGHTS, &many), 1.0);
    jv_weight_component none = component("chat", 1.0, 1.0, 0);
    assert_close(grok_component_factor(&DEFAULT_WEIGHTS, &none), 0.0);
    jv_weight_component negative = component("chat", 1.0, 1.0, -3);
    assert_close(grok_component_factor(&DEFAULT_WEIGHTS, &negative), 0.0);
}

static void test_chat_without_samples_is_absent(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("chat", 0.9, 1.0, 0),
                                   component("grok", 0.2, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 0.0);
    assert_close(result.composite, 0.2);
    assert_close(result.confidence, 0.3);
}

static void test_clamping(void **unused)
{
    (void)unused;
    jv_weight_component high[] = {component("chat", 3.0, 0, 50),
                                  component("grok", 2.0, 7.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, high, 2, &result), JV_OK);
    assert_close(result.composite, 1.0);
    assert_close(result.weight[1], 0.3 / 0.7); /* confidence 7 clamps to 1 */
    assert_close(result.contribution[0], 0.4 / 0.7);

    jv_weight_component low[] = {component("market", -5.0, 1.0, 0)};
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, low, 1, &result), JV_OK);
    assert_close(result.composite, -1.0);
    assert_close(result.confidence, 0.3);

    jv_weight_component negative_confidence[] = {component("grok", 0.5, -1.0, 0)};
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, negative_confidence, 1, &result), JV_OK);
    assert_close(result.composite, 0.0);
    assert_close(result.confidence, 0.0);
}

static void test_unknown_names_take_no_weight(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("moon", 1.0, 1.0, 99),
                                   component("chat", 0.5, 0, 50), component(NULL, -1.0, 1.0, 0),
                                   component("Chat", -1.0, 1.0, 50)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 4, &result), JV_OK);
    assert_int_equal(result.count, 4);
    assert_close(result.weight[0], 0.0);
    assert_close(result.weight[1], 1.0);
    assert_close(result.weight[2], 0.0);
    assert_close(result.weight[3], 0.0); /* names are case-sensitive */
    assert_close(result.composite, 0.5);
    assert_close(result.confidence, 0.4);
}

static void test_market_confidence_zero_means_unstated(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("market", 0.6, 0.0, 0),
                                   component("grok", -0.6, 0.5, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    /* market 0.3*1, grok 0.3*0.5 -> 2/3 and 1/3 */
    assert_close(result.weight[0], 2.0 / 3.0);
    assert_close(result.composite, 0.6 * 2.0 / 3.0 - 0.6 / 3.0);
    assert_close(result.confidence, 0.45);

    input[0].confidence = 0.5;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 0.5);
    assert_close(result.composite, 0.0);
}

static void test_duplicate_name_counts_once(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("grok", 0.8, 1.0, 0),
                                   component("grok", -0.8, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 1.0);
    assert_close(result.weight[1], 0.0);
    assert_close(result.composite, 0.8);
    assert_close(result.confidence, 0.3);
}

static void test_nan_score_is_absent(void **unused)
{
    (void)unused;
    jv_weight_component input[] = {component("grok", NAN, 1.0, 0),
                                   component("market", 0.4, 1.0, 0)};
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
    assert_close(result.weight[0], 0.0);
    assert_close(result.contribution[0], 0.0);
    assert_close(result.composite, 0.4);
}

static void test_invalid_arguments(void **unused)
{
    (void)unused;
    jv_weight_component input[JV_WEIGHT_MAX_COMPONENTS + 1];
    for (size_t i = 0; i < JV_WEIGHT_MAX_COMPONENTS + 1; i++)
        input[i] = component("chat", 0.1, 0, 10);
    jv_weight_result result;
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, JV_WEIGHT_MAX_COMPONENTS + 1, &result),
                     JV_E_INVAL);
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 1, NULL), JV_E_INVAL);
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, NULL, 2, &result), JV_E_INVAL);
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, JV_WEIGHT_MAX_COMPONENTS, &result),
                     JV_OK);
    assert_close(result.composite, 0.1);
}

static void test_describe(void **unused)
{
    (void)unused;
    char text[512];
    grok_weights_describe(&DEFAULT_WEIGHTS, text, sizeof text);
    assert_non_null(strstr(text, "chat 0.40, grok 0.30, market 0.30"));
    assert_non_null(strstr(text, "sqrt(samples/50)"));
    /* the formula shown must be the one combine applies (market 0 = 1) */
    assert_non_null(strstr(text, "for market, 0 means not stated and counts as 1"));
}

/* ---- cache ---- */

struct fake_clock {
    int64_t now_ms;
};

static int64_t read_fake_clock(void *context)
{
    return ((struct fake_clock *)context)->now_ms;
}

struct fetcher {
    pthread_mutex_t lock;
    int calls;
    int fail;             /* answer unavailable */
    int64_t keep_ms;
    struct grok_cache *cache;
    size_t wait_for_waiters; /* block until this many callers wait */
};

static void counting_fetch(const char *symbol, jv_grok_rating *rating, int64_t *keep_ms,
                           void *context)
{
    struct fetcher *fetcher = context;
    pthread_mutex_lock(&fetcher->lock);
    int call = ++fetcher->calls;
    pthread_mutex_unlock(&fetcher->lock);
    /* Holds the fetch open until the other callers are parked on it. The
     * bound only keeps a broken cache from hanging the suite; the assertion
     * is on the call count, not on time. */
    for (int spin = 0; fetcher->wait_for_waiters > 0 && spin < 20000 &&
                       grok_cache_waiters(fetcher->cache, symbol) < fetcher->wait_for_waiters;
         spin++) {
        struct timespec pause = {0, 500000};
        nanosleep(&pause, NULL);
    }
    rating->available = !fetcher->fail;
    rating->score = 0.1 * call;
    rating->confidence = 0.5;
    snprintf(rating->summary, sizeof rating->summary, "%s call %d", symbol, call);
    if (fetcher->fail)
        snprintf(rating->reason, sizeof rating->reason, "HTTP 500");
    *keep_ms = fetcher->keep_ms;
}

static void fetcher_init(struct fetcher *fetcher, struct grok_cache *cache, int64_t keep_ms)
{
    memset(fetcher, 0, sizeof *fetcher);
    pthread_mutex_init(&fetcher->lock, NULL);
    fetcher->cache = cache;
    fetcher->keep_ms = keep_ms;
}

static void test_cache_serves_fresh_then_refetches(void **unused)
{
    (void)unused;
    struct fake_clock clock = {1000};
    struct grok_cache *cache = grok_cache_create(4, read_fake_clock, &clock);
    assert_non_null(cache);
    struct fetcher fetcher;
    fetcher_init(&fetcher, cache, 600000);
    jv_grok_rating rating;
    int from_cache = -1;

    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, &from_cache);
    assert_int_equal(fetcher.calls, 1);
    assert_int_equal(from_cache, 0);
    assert_string_equal(rating.summary, "SOL call 1");

    clock.now_ms += 599999;
    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, &from_cache);
    assert_int_equal(fetcher.calls, 1);
    assert_int_equal(from_cache, 1);
    assert_string_equal(rating.summary, "SOL call 1");

    clock.now_ms += 1;
    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, &from_cache);
    assert_int_equal(fetcher.calls, 2);
    assert_int_equal(from_cache, 0);
    assert_string_equal(rating.summary, "SOL call 2");

    grok_cache_get(cache, "BTC", counting_fetch, &fetcher, &rating, NULL);
    assert_int_equal(fetcher.calls, 3);
    assert_string_equal(rating.summary, "BTC call 3");
    grok_cache_destroy(cache);
    pthread_mutex_destroy(&fetcher.lock);
}

static void test_cache_holds_failures(void **unused)
{
    (void)unused;
    struct fake_clock clock = {0};
    struct grok_cache *cache = grok_cache_create(4, read_fake_clock, &clock);
    struct fetcher fetcher;
    fetcher_init(&fetcher, cache, 30000);
    fetcher.fail = 1;
    jv_grok_rating rating;
    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, NULL);
    assert_int_equal(rating.available, 0);
    assert_string_equal(rating.reason, "HTTP 500");
    clock.now_ms += 29999;
    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, NULL);
    assert_int_equal(fetcher.calls, 1);
    assert_int_equal(rating.available, 0);

    clock.now_ms += 1;
    fetcher.fail = 0;
    grok_cache_get(cache, "SOL", counting_fetch, &fetcher, &rating, NULL);
    assert_int_equal(fetcher.calls, 2);
    assert_int_equal(rating.available, 1);

    /* keep 0: not cached at all */
    fetcher.keep_ms = 0;
    clock.now_ms += 1000000;
    grok_cache_get(cache, "ETH", counting_fetch, &fetcher, &rating, NULL);
    grok_cache_get(cache, "ETH", counting_fetch, &fetcher, &rating, NULL);
    assert_int_equal(fetcher.calls, 4);
    grok_cache_destroy(cache);
    pthread_mutex_destroy(&fetcher.lock);
}

static void test_cache_evicts_when_full(void **unused)
{
    (void)unused;
    struct fake_clock clock = {0};
    struct grok_cache *cache = grok_cache_create(2, read_fake_clock, &clock);
    struct fetcher fetcher;
    fetcher_init(&fetcher, cache, 1000);
    jv_grok_rating rating;
    const char *symbols[] = {"A", "B", "C", "A", "C"};
    for (size_t i = 0; i < 5; i++) {
        clock.now_ms += 10; /* distinct expiry times: the oldest goes first */
        grok_cache_get(cache, symbols[i], counting_fetch, &fetcher, &rating, NULL);
        char expected[32];
        snprintf(expected, sizeof expected, "%s call", symbols[i]);
        assert_memory_equal(rating.summary, expected, strlen(expected));
    }
    /* C evicted A (expiring first), A then evicted B, so C is still cached */
    assert_int_equal(fetcher.calls, 4);
    grok_cache_destroy(cache);
    pthread_mutex_destroy(&fetcher.lock);
}

#define FLIGHT_THREADS 6

struct asker {
    struct grok_cache *cache;
    struct fetcher *fetcher;
    jv_grok_rating rating;
};

static void *ask_sol(void *argument)
{
    struct asker *asker = argument;
    grok_cache_get(asker->cache, "SOL", counting_fetch, asker->fetcher, &asker->rating, NULL);
    return NULL;
}

static void test_cache_single_flight(void **unused)
{
    (void)unused;
    struct grok_cache *cache = grok_cache_create(4, NULL, NULL);
    struct fetcher fetcher;
    fetcher_init(&fetcher, cache, 600000);
    fetcher.wait_for_waiters = FLIGHT_THREADS - 1;
    pthread_t threads[FLIGHT_THREADS];
    struct asker askers[FLIGHT_THREADS];
    for (size_t i = 0; i < FLIGHT_THREADS; i++) {
        askers[i].cache = cache;
        askers[i].fetcher = &fetcher;
        assert_int_equal(pthread_create(&threads[i], NULL, ask_sol, &askers[i]), 0);
    }
    for (size_t i = 0; i < FLIGHT_THREADS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(fetcher.calls, 1);
    for (size_t i = 0; i < FLIGHT_THREADS; i++) {
        assert_int_equal(askers[i].rating.available, 1);
        assert_string_equal(askers[i].rating.summary, "SOL call 1");
    }
    assert_int_equal(grok_cache_waiters(cache, "SOL"), 0);
    grok_cache_destroy(cache);
    pthread_mutex_destroy(&fetcher.lock);
}

/* ---- single flight over real HTTP: the real client and the core's libcurl
 * wrapper against tests/fakes/fake_xai.py, whose counter is the judge ---- */

#define FAKE_KEY "xai-unit-test-key"

struct fake_server {
    pid_t pid;
    char base_url[64];
};

static int start_fake_xai(struct fake_server *fake)
{
    int pipe_fds[2];
    if (access("tests/fakes/fake_xai.py", R_OK) != 0 || pipe(pipe_fds) != 0)
        return -1;
    fake->pid = fork();
    if (fake->pid == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        close(pipe_fds[0]);
        execl("/usr/bin/python3", "python3", "tests/fakes/fake_xai.py", "--port", "0", "--key",
              FAKE_KEY, (char *)NULL);
        _exit(127);
    }
    close(pipe_fds[1]);
    char line[64] = {0};
    size_t used = 0;
    while (used < sizeof line - 1 && read(pipe_fds[0], line + used, 1) == 1 && line[used] != '\n')
        used++;
    close(pipe_fds[0]);
    int port = 0;
    if (sscanf(line, "PORT %d", &port) != 1)
        return -1;
    snprintf(fake->base_url, sizeof fake->base_url, "http://127.0.0.1:%d", port);
    return 0;
}

static void stop_fake_xai(struct fake_server *fake)
{
    kill(fake->pid, SIGTERM);
    waitpid(fake->pid, NULL, 0);
}

static char *fake_get(const char *base_url, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    jv_http_request request = {sizeof request, "GET", url, NULL, NULL, 0, 5000};
    jv_http_response response = {.struct_size = sizeof response};
    if (http_perform(&request, &response) != JV_OK)
        return NULL;
    char *body = strdup(response.body ? response.body : "");
    http_response_release(&response);
    return body;
}

static int core_http_request(jv_plugin *self, const jv_http_request *request,
                             jv_http_response *response)
{
    (void)self;
    return http_perform(request, response);
}

static int64_t wall_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static const char *no_strerror(int code)
{
    (void)code;
    return "error";
}

struct wire_fetcher {
    struct grok_client client;
    struct grok_cache *cache;
    size_t wait_for_waiters;
};

static void wire_fetch(const char *symbol, jv_grok_rating *rating, int64_t *keep_ms,
                       void *context)
{
    struct wire_fetcher *fetcher = context;
    for (int spin = 0; spin < 20000 &&
                       grok_cache_waiters(fetcher->cache, symbol) < fetcher->wait_for_waiters;
         spin++) {
        struct timespec pause = {0, 500000};
        nanosleep(&pause, NULL);
    }
    int64_t retry_after_s;
    grok_client_rate(&fetcher->client, symbol, rating, &retry_after_s);
    *keep_ms = 600000;
}

struct wire_asker {
    struct wire_fetcher *fetcher;
    jv_grok_rating rating;
};

static void *wire_ask(void *argument)
{
    struct wire_asker *asker = argument;
    grok_cache_get(asker->fetcher->cache, "SOL", wire_fetch, asker->fetcher, &asker->rating,
                   NULL);
    return NULL;
}

static void test_single_flight_over_http(void **unused)
{
    (void)unused;
    struct fake_server fake;
    if (start_fake_xai(&fake) != 0)
        fail_msg("cannot start tests/fakes/fake_xai.py (run from the repository root)");
    assert_int_equal(http_global_init(), 0);
    jv_host_api api = {.struct_size = sizeof api, .strerror = no_strerror,
                       .http_request = core_http_request,
                       .http_response_free = http_response_release, .now_ms = wall_clock_ms};
    char base_url[96];
    snprintf(base_url, sizeof base_url, "%s/v1", fake.base_url);
    struct wire_fetcher fetcher = {{&api, NULL, base_url, "grok-4.3", FAKE_KEY, 10000,
                                    GROK_API_CHAT, 0},
                                   grok_cache_create(4, NULL, NULL), FLIGHT_THREADS - 1};
    pthread_t threads[FLIGHT_THREADS];
    struct wire_asker askers[FLIGHT_THREADS];
    for (size_t i = 0; i < FLIGHT_THREADS; i++) {
        askers[i].fetcher = &fetcher;
        assert_int_equal(pthread_create(&threads[i], NULL, wire_ask, &askers[i]), 0);
    }
    for (size_t i = 0; i < FLIGHT_THREADS; i++)
        pthread_join(threads[i], NULL);
    char *counts = fake_get(fake.base_url, "/control/calls");
    stop_fake_xai(&fake);
    for (size_t i = 0; i < FLIGHT_THREADS; i++) {
        assert_int_equal(askers[i].rating.available, 1);
        assert_string_equal(askers[i].rating.summary, "Mixed chatter about the token.");
    }
    assert_non_null(counts);
    assert_string_equal(counts, "{\"SOL\": 1, \"_total\": 1}");
    free(counts);
    grok_cache_destroy(fetcher.cache);
    http_global_cleanup();
}

/* The one label rule: +-0.15 and a minimum of evidence before any call. */
static void test_label_needs_threshold_and_evidence(void **unused)
{
    (void)unused;
    jv_weight_result result;
    /* one chat message, strongly positive: no label */
    jv_weight_component one[] = {component("chat", 0.9, 0, 1)};
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, one, 1, &result), JV_OK);
    assert_string_equal(result.label, "undecided");
    assert_false(result.enough_evidence);
    assert_string_equal(result.evidence_note, "1 chat message (5 needed)");
    assert_close(result.certainty, 0.0);
    /* 36 hours of prices: rounds to 2 days, below 7 */
    jv_weight_component short_market[] = {component("market", 0.8, 1.0, 2)};
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, short_market, 1, &result), JV_OK);
    assert_string_equal(result.label, "undecided");
    assert_string_equal(result.evidence_note, "2 days of prices (7 needed)");
    /* enough of each: the thresholds decide */
    static const struct {
        double score;
        const char *label;
    } rows[] = {{0.15, "bullish"}, {0.149, "neutral"}, {-0.149, "neutral"}, {-0.15, "bearish"},
                {0.0, "neutral"},  {0.9, "bullish"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        jv_weight_component input[] = {component("market", rows[i].score, 1.0, 30),
                                       component("chat", rows[i].score, 0, 5)};
        assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, input, 2, &result), JV_OK);
        assert_string_equal(result.label, rows[i].label);
        assert_true(result.enough_evidence);
        assert_int_equal(result.sources_used, 2);
        assert_int_equal(result.sources_configured, 3);
    }
    /* a strong market with a thin chat: market carries >= half, so a label */
    jv_weight_component mixed[] = {component("market", 0.5, 1.0, 30), component("chat", 0.5, 0, 2)};
    assert_int_equal(grok_combine(&DEFAULT_WEIGHTS, mixed, 2, &result), JV_OK);
    assert_string_equal(result.label, "bullish");
    /* certainty: coverage 0.3+0.4*sqrt(2/50) of 1.0, times clarity 0.5+0.5 = 1 */
    assert_close(result.certainty, (0.3 + 0.4 * sqrt(2.0 / 50.0)) / 1.0 * 1.0);
    /* configured threshold */
    struct grok_weights strict = DEFAULT_WEIGHTS;
    strict.label_threshold = 0.6;
    strict.min_chat_samples = 1;
    assert_int_equal(grok_combine(&strict, mixed, 2, &result), JV_OK);
    assert_string_equal(result.label, "neutral");
    assert_string_equal(grok_label(&strict, -0.6), "bearish");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_needs_threshold_and_evidence),
        cmocka_unit_test(test_all_present),
        cmocka_unit_test(test_one_missing_renormalises),
        cmocka_unit_test(test_all_missing),
        cmocka_unit_test(test_no_components),
        cmocka_unit_test(test_zero_weights),
        cmocka_unit_test(test_negative_weights_count_as_zero),
        cmocka_unit_test(test_chat_sample_scaling),
        cmocka_unit_test(test_chat_without_samples_is_absent),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_unknown_names_take_no_weight),
        cmocka_unit_test(test_market_confidence_zero_means_unstated),
        cmocka_unit_test(test_duplicate_name_counts_once),
        cmocka_unit_test(test_nan_score_is_absent),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_cache_serves_fresh_then_refetches),
        cmocka_unit_test(test_cache_holds_failures),
        cmocka_unit_test(test_cache_evicts_when_full),
        cmocka_unit_test(test_cache_single_flight),
        cmocka_unit_test(test_single_flight_over_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
