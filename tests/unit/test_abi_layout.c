/* Freezes the v1 plugin ABI on x86_64: every public struct's member offsets
 * and sizes (the host API's and the services' in svc/), and the constants. An accidental layout change fails the build
 * (static asserts) before any plugin can be broken by it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_score.h>
#include <jarvis/svc/sentiment_weight.h>
#include <jarvis/svc/token_registry.h>
#include <jarvis/util.h>

#include "plugin/registry.h"
#include "dispatch/host_api.h"

#if !defined(__x86_64__)
#error "the ABI layout below is written down for x86_64"
#endif

#define ASSERT_OFFSET(type, member, offset)                                                \
    _Static_assert(offsetof(type, member) == (offset), #type "." #member " moved: ABI break")
#define ASSERT_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " resized: ABI break")

/* descriptor: the first four members are frozen for every major */
ASSERT_OFFSET(jv_plugin_info, magic, 0);
ASSERT_OFFSET(jv_plugin_info, abi_major, 4);
ASSERT_OFFSET(jv_plugin_info, abi_minor, 6);
ASSERT_OFFSET(jv_plugin_info, struct_size, 8);
ASSERT_OFFSET(jv_plugin_info, flags, 12);
ASSERT_OFFSET(jv_plugin_info, name, 16);
ASSERT_OFFSET(jv_plugin_info, version, 24);
ASSERT_OFFSET(jv_plugin_info, description, 32);
ASSERT_OFFSET(jv_plugin_info, init, 40);
ASSERT_OFFSET(jv_plugin_info, post_init, 48);
ASSERT_OFFSET(jv_plugin_info, shutdown, 56);
ASSERT_SIZE(jv_plugin_info, 64);

ASSERT_OFFSET(jv_message, struct_size, 0);
ASSERT_OFFSET(jv_message, update_id, 8);
ASSERT_OFFSET(jv_message, chat_id, 16);
ASSERT_OFFSET(jv_message, user_id, 24);
ASSERT_OFFSET(jv_message, message_id, 32);
ASSERT_OFFSET(jv_message, chat_type, 40);
ASSERT_OFFSET(jv_message, user_name, 48);
ASSERT_OFFSET(jv_message, text, 56);
ASSERT_OFFSET(jv_message, command, 64);
ASSERT_OFFSET(jv_message, args, 72);
ASSERT_OFFSET(jv_message, argc, 80);
ASSERT_OFFSET(jv_message, argv, 88);
ASSERT_OFFSET(jv_message, is_private, 96);
ASSERT_OFFSET(jv_message, mentions_bot, 100);
ASSERT_OFFSET(jv_message, is_reply_to_bot, 104);
ASSERT_OFFSET(jv_message, context, 112); /* since 1.1 */
ASSERT_OFFSET(jv_message, language_code, 120); /* since 1.2 */
ASSERT_OFFSET(jv_message, reply_to_text, 128);
ASSERT_OFFSET(jv_message, is_edited, 136);
ASSERT_OFFSET(jv_message, callback_data, 144);
ASSERT_SIZE(jv_message, 152);

/* since 1.2: rich messages */
ASSERT_OFFSET(jv_button, text, 0);
ASSERT_OFFSET(jv_button, callback_data, 8);
ASSERT_OFFSET(jv_button, url, 16);
ASSERT_OFFSET(jv_button, new_row, 24);
ASSERT_SIZE(jv_button, 32);
ASSERT_OFFSET(jv_outgoing, struct_size, 0);
ASSERT_OFFSET(jv_outgoing, text, 8);
ASSERT_OFFSET(jv_outgoing, flags, 16);
ASSERT_OFFSET(jv_outgoing, buttons, 24);
ASSERT_OFFSET(jv_outgoing, button_count, 32);
ASSERT_OFFSET(jv_outgoing, file_kind, 40);
ASSERT_OFFSET(jv_outgoing, file, 48);
ASSERT_OFFSET(jv_outgoing, file_length, 56);
ASSERT_OFFSET(jv_outgoing, file_name, 64);
ASSERT_SIZE(jv_outgoing, 72);
ASSERT_OFFSET(jv_callback_spec, struct_size, 0);
ASSERT_OFFSET(jv_callback_spec, prefix, 8);
ASSERT_OFFSET(jv_callback_spec, flags, 16);
ASSERT_OFFSET(jv_callback_spec, handler, 24);
ASSERT_OFFSET(jv_callback_spec, user_data, 32);
ASSERT_OFFSET(jv_callback_spec, free_user_data, 40);
ASSERT_SIZE(jv_callback_spec, 48);
_Static_assert(JV_FORMAT_HTML == 0x1u && JV_LINK_PREVIEW == 0x2u && JV_NO_QUOTE == 0x4u,
               "jv_outgoing flags changed: ABI break");
_Static_assert(JV_FILE_NONE == 0 && JV_FILE_PHOTO == 1 && JV_FILE_DOCUMENT == 2,
               "file kinds changed: ABI break");
_Static_assert(JV_CALLBACK_DATA_MAX == 64, "Telegram's callback_data limit is 64 bytes");

ASSERT_OFFSET(jv_command_spec, struct_size, 0);
ASSERT_OFFSET(jv_command_spec, name, 8);
ASSERT_OFFSET(jv_command_spec, usage, 16);
ASSERT_OFFSET(jv_command_spec, help, 24);
ASSERT_OFFSET(jv_command_spec, flags, 32);
ASSERT_OFFSET(jv_command_spec, handler, 40);
ASSERT_OFFSET(jv_command_spec, user_data, 48);
ASSERT_OFFSET(jv_command_spec, free_user_data, 56);
ASSERT_SIZE(jv_command_spec, 64);

ASSERT_OFFSET(jv_message_handler_spec, struct_size, 0);
ASSERT_OFFSET(jv_message_handler_spec, priority, 8);
ASSERT_OFFSET(jv_message_handler_spec, handler, 16);
ASSERT_OFFSET(jv_message_handler_spec, user_data, 24);
ASSERT_OFFSET(jv_message_handler_spec, free_user_data, 32);
ASSERT_SIZE(jv_message_handler_spec, 40);

ASSERT_OFFSET(jv_job_spec, struct_size, 0);
ASSERT_OFFSET(jv_job_spec, name, 8);
ASSERT_OFFSET(jv_job_spec, interval_ms, 16);
ASSERT_OFFSET(jv_job_spec, initial_delay_ms, 24);
ASSERT_OFFSET(jv_job_spec, run, 32);
ASSERT_OFFSET(jv_job_spec, user_data, 40);
ASSERT_OFFSET(jv_job_spec, free_user_data, 48);
ASSERT_SIZE(jv_job_spec, 56);

ASSERT_OFFSET(jv_http_request, struct_size, 0);
ASSERT_OFFSET(jv_http_request, method, 8);
ASSERT_OFFSET(jv_http_request, url, 16);
ASSERT_OFFSET(jv_http_request, headers, 24);
ASSERT_OFFSET(jv_http_request, body, 32);
ASSERT_OFFSET(jv_http_request, body_length, 40);
ASSERT_OFFSET(jv_http_request, timeout_ms, 48);
ASSERT_SIZE(jv_http_request, 56);

ASSERT_OFFSET(jv_http_response, struct_size, 0);
ASSERT_OFFSET(jv_http_response, status, 8);
ASSERT_OFFSET(jv_http_response, body, 16);
ASSERT_OFFSET(jv_http_response, body_length, 24);
ASSERT_OFFSET(jv_http_response, retry_after_s, 32);
ASSERT_OFFSET(jv_http_response, error, 40);
ASSERT_SIZE(jv_http_response, 296);

/* the host table is append-only: these never move */
ASSERT_OFFSET(jv_host_api, struct_size, 0);
ASSERT_OFFSET(jv_host_api, abi_major, 8);
ASSERT_OFFSET(jv_host_api, abi_minor, 10);
ASSERT_OFFSET(jv_host_api, alloc, 16);
ASSERT_OFFSET(jv_host_api, free, 24);
ASSERT_OFFSET(jv_host_api, strdup, 32);
ASSERT_OFFSET(jv_host_api, strerror, 40);
ASSERT_OFFSET(jv_host_api, log, 48);
ASSERT_OFFSET(jv_host_api, config_get, 56);
ASSERT_OFFSET(jv_host_api, config_get_int, 64);
ASSERT_OFFSET(jv_host_api, config_get_double, 72);
ASSERT_OFFSET(jv_host_api, config_get_bool, 80);
ASSERT_OFFSET(jv_host_api, register_command, 88);
ASSERT_OFFSET(jv_host_api, register_message_handler, 96);
ASSERT_OFFSET(jv_host_api, register_job, 104);
ASSERT_OFFSET(jv_host_api, provide_service, 112);
ASSERT_OFFSET(jv_host_api, acquire_service, 120);
ASSERT_OFFSET(jv_host_api, release_service, 128);
ASSERT_OFFSET(jv_host_api, reply, 136);
ASSERT_OFFSET(jv_host_api, send_message, 144);
ASSERT_OFFSET(jv_host_api, kv_set, 152);
ASSERT_OFFSET(jv_host_api, kv_get, 160);
ASSERT_OFFSET(jv_host_api, kv_delete, 168);
ASSERT_OFFSET(jv_host_api, kv_list, 176);
ASSERT_OFFSET(jv_host_api, http_request, 184);
ASSERT_OFFSET(jv_host_api, http_response_free, 192);
ASSERT_OFFSET(jv_host_api, now_ms, 200);
/* since 1.1 */
ASSERT_OFFSET(jv_host_api, defer_reply, 208);
ASSERT_OFFSET(jv_host_api, deferred_reply, 216);
ASSERT_OFFSET(jv_host_api, deferred_finish, 224);
ASSERT_OFFSET(jv_host_api, reply_with, 232); /* since 1.2 */
ASSERT_OFFSET(jv_host_api, send_with, 240);
ASSERT_OFFSET(jv_host_api, edit_message, 248);
ASSERT_OFFSET(jv_host_api, register_callback, 256);
ASSERT_OFFSET(jv_host_api, answer_callback, 264);
ASSERT_SIZE(jv_host_api, 272);

/* ---- services (include/jarvis/svc/): the vtables and their outputs ----
 * Append-only too: a consumer built against an older service header reads
 * the same vtable up to its own size, so each old member keeps its offset
 * (the version 1 vtables ended where `context` now starts). */
_Static_assert(JV_SVC_SENTIMENT_SCORE_VERSION == 2, "sentiment.score_text version moved");
_Static_assert(JV_SVC_SENTIMENT_WEIGHT_VERSION == 3, "sentiment.weight version moved");
_Static_assert(JV_SVC_TOKEN_REGISTRY_VERSION == 1, "token.registry version moved");
_Static_assert(JV_WEIGHT_MAX_COMPONENTS == 8, "jv_weight_result arrays resized");

ASSERT_OFFSET(jv_token_sentiment, mean, 0);
ASSERT_OFFSET(jv_token_sentiment, samples, 8);
ASSERT_OFFSET(jv_token_sentiment, previous_mean, 16);
ASSERT_OFFSET(jv_token_sentiment, previous_samples, 24);
ASSERT_OFFSET(jv_token_sentiment, window_s, 32);
ASSERT_OFFSET(jv_token_sentiment, last_seen_ms, 40);
ASSERT_SIZE(jv_token_sentiment, 48);

ASSERT_OFFSET(jv_token_sentiment2, struct_size, 0);
ASSERT_OFFSET(jv_token_sentiment2, mean, 8);
ASSERT_OFFSET(jv_token_sentiment2, samples, 16);
ASSERT_OFFSET(jv_token_sentiment2, previous_mean, 24);
ASSERT_OFFSET(jv_token_sentiment2, previous_samples, 32);
ASSERT_OFFSET(jv_token_sentiment2, window_s, 40);
ASSERT_OFFSET(jv_token_sentiment2, last_seen_ms, 48);
ASSERT_SIZE(jv_token_sentiment2, 56);

ASSERT_OFFSET(jv_sentiment_score_api, struct_size, 0);
ASSERT_OFFSET(jv_sentiment_score_api, score_text, 8);
ASSERT_OFFSET(jv_sentiment_score_api, token_snapshot, 16);
ASSERT_OFFSET(jv_sentiment_score_api, context, 24);
ASSERT_OFFSET(jv_sentiment_score_api, score_text2, 32);
ASSERT_OFFSET(jv_sentiment_score_api, token_snapshot2, 40);
ASSERT_SIZE(jv_sentiment_score_api, 48);

ASSERT_OFFSET(jv_weight_component, name, 0);
ASSERT_OFFSET(jv_weight_component, present, 8);
ASSERT_OFFSET(jv_weight_component, score, 16);
ASSERT_OFFSET(jv_weight_component, confidence, 24);
ASSERT_OFFSET(jv_weight_component, samples, 32);
ASSERT_SIZE(jv_weight_component, 40);

ASSERT_OFFSET(jv_weight_result, composite, 0);
ASSERT_OFFSET(jv_weight_result, confidence, 8);
ASSERT_OFFSET(jv_weight_result, count, 16);
ASSERT_OFFSET(jv_weight_result, weight, 24);
ASSERT_OFFSET(jv_weight_result, contribution, 88);
ASSERT_OFFSET(jv_weight_result, label, 152);
ASSERT_OFFSET(jv_weight_result, certainty, 168);
ASSERT_OFFSET(jv_weight_result, enough_evidence, 176);
ASSERT_OFFSET(jv_weight_result, evidence_note, 180);
ASSERT_OFFSET(jv_weight_result, sources_used, 280);
ASSERT_OFFSET(jv_weight_result, sources_configured, 288);
ASSERT_SIZE(jv_weight_result, 296);

ASSERT_OFFSET(jv_weight_result2, struct_size, 0);
ASSERT_OFFSET(jv_weight_result2, composite, 8);
ASSERT_OFFSET(jv_weight_result2, confidence, 16);
ASSERT_OFFSET(jv_weight_result2, count, 24);
ASSERT_OFFSET(jv_weight_result2, weight, 32);
ASSERT_OFFSET(jv_weight_result2, contribution, 96);
ASSERT_OFFSET(jv_weight_result2, label, 160);
ASSERT_OFFSET(jv_weight_result2, certainty, 176);
ASSERT_OFFSET(jv_weight_result2, enough_evidence, 184);
ASSERT_OFFSET(jv_weight_result2, evidence_note, 188);
ASSERT_OFFSET(jv_weight_result2, sources_used, 288);
ASSERT_OFFSET(jv_weight_result2, sources_configured, 296);
ASSERT_SIZE(jv_weight_result2, 304);

ASSERT_OFFSET(jv_grok_rating, available, 0);
ASSERT_OFFSET(jv_grok_rating, score, 8);
ASSERT_OFFSET(jv_grok_rating, confidence, 16);
ASSERT_OFFSET(jv_grok_rating, summary, 24);
ASSERT_OFFSET(jv_grok_rating, fetched_at_ms, 280);
ASSERT_OFFSET(jv_grok_rating, reason, 288);
ASSERT_SIZE(jv_grok_rating, 448);

ASSERT_OFFSET(jv_grok_rating2, struct_size, 0);
ASSERT_OFFSET(jv_grok_rating2, available, 8);
ASSERT_OFFSET(jv_grok_rating2, score, 16);
ASSERT_OFFSET(jv_grok_rating2, confidence, 24);
ASSERT_OFFSET(jv_grok_rating2, summary, 32);
ASSERT_OFFSET(jv_grok_rating2, fetched_at_ms, 288);
ASSERT_OFFSET(jv_grok_rating2, reason, 296);
ASSERT_SIZE(jv_grok_rating2, 456);

ASSERT_OFFSET(jv_sentiment_weight_api, struct_size, 0);
ASSERT_OFFSET(jv_sentiment_weight_api, combine, 8);
ASSERT_OFFSET(jv_sentiment_weight_api, grok_rate, 16);
ASSERT_OFFSET(jv_sentiment_weight_api, narrate, 24);
ASSERT_OFFSET(jv_sentiment_weight_api, context, 32);
ASSERT_OFFSET(jv_sentiment_weight_api, combine2, 40);
ASSERT_OFFSET(jv_sentiment_weight_api, grok_rate2, 48);
ASSERT_OFFSET(jv_sentiment_weight_api, narrate2, 56);
ASSERT_SIZE(jv_sentiment_weight_api, 64);

ASSERT_OFFSET(jv_token_info, struct_size, 0);
ASSERT_OFFSET(jv_token_info, symbol, 8);
ASSERT_OFFSET(jv_token_info, name, 24);
ASSERT_OFFSET(jv_token_info, coingecko_id, 72);
ASSERT_OFFSET(jv_token_info, alias_count, 136);
ASSERT_OFFSET(jv_token_info, aliases, 144);
ASSERT_OFFSET(jv_token_info, stablecoin, 432);
ASSERT_SIZE(jv_token_info, 440);

ASSERT_OFFSET(jv_token_registry_api, struct_size, 0);
ASSERT_OFFSET(jv_token_registry_api, context, 8);
ASSERT_OFFSET(jv_token_registry_api, lookup, 16);
ASSERT_OFFSET(jv_token_registry_api, count, 24);
ASSERT_OFFSET(jv_token_registry_api, at, 32);
ASSERT_OFFSET(jv_token_registry_api, suggest, 40);
ASSERT_SIZE(jv_token_registry_api, 48);

/* codes a built plugin has compiled in */
_Static_assert(JV_ABI_MAJOR == 1, "this file describes ABI major 1");
_Static_assert(JV_OK == 0 && JV_E_INVAL == -1 && JV_E_NOMEM == -2 && JV_E_EXISTS == -3 &&
                   JV_E_NOTFOUND == -4 && JV_E_STATE == -5 && JV_E_ABI == -6 &&
                   JV_E_INTERNAL == -7 && JV_E_IO == -8 && JV_E_TIMEOUT == -9,
               "error codes are ABI");
_Static_assert(JV_CONTINUE == 0 && JV_HANDLED == 1, "handler results are ABI");
_Static_assert(JV_LOG_ERROR == 0 && JV_LOG_WARN == 1 && JV_LOG_INFO == 2 && JV_LOG_DEBUG == 3,
               "log levels are ABI");
_Static_assert(JV_PLUGIN_CONCURRENT == 1u && JV_COMMAND_ADMIN == 1u, "flags are ABI");
_Static_assert(JV_COMMAND_GROUP_ADMIN == 2u, "flags are ABI"); /* since 1.3 */

static void test_magic_spells_jvpl_in_memory(void **state)
{
    (void)state;
    uint32_t magic = JV_PLUGIN_MAGIC;
    assert_memory_equal(&magic, "JVPL", 4);
}

static void test_host_table_announces_v1_and_its_size(void **state)
{
    (void)state;
    const jv_host_api *api = host_api_table();
    assert_non_null(api);
    assert_int_equal(api->struct_size, sizeof(jv_host_api));
    assert_int_equal(api->abi_major, JV_ABI_MAJOR);
    assert_int_equal(api->abi_minor, JV_ABI_MINOR);
    assert_true(JV_API_HAS(api, now_ms));
}

static void test_host_table_has_every_member_filled(void **state)
{
    (void)state;
    const jv_host_api *api = host_api_table();
    /* Every slot after the version head is a function pointer. */
    size_t first = offsetof(jv_host_api, alloc);
    size_t slots = (sizeof(jv_host_api) - first) / sizeof(void (*)(void));
    assert_int_equal(slots, 32);
    for (size_t i = 0; i < slots; i++) {
        void (*slot)(void);
        memcpy(&slot, (const char *)api + first + i * sizeof slot, sizeof slot);
        if (!slot)
            fail_msg("host API slot %zu (offset %zu) is NULL", i, first + i * sizeof slot);
    }
}

static void test_api_has_is_false_for_a_shorter_table(void **state)
{
    (void)state;
    /* What an older host's table would look like to a newer plugin. */
    jv_host_api older = *host_api_table();
    older.struct_size = offsetof(jv_host_api, http_request);
    assert_true(JV_API_HAS(&older, kv_list));
    assert_false(JV_API_HAS(&older, http_request));
    assert_false(JV_API_HAS(&older, now_ms));
}

JV_PLUGIN_DEFINE("layout", "1", "d", JV_PLUGIN_CONCURRENT, NULL, NULL, NULL);

static void test_define_macro_fills_the_frozen_head(void **state)
{
    (void)state;
    assert_int_equal(jv_plugin_descriptor.magic, JV_PLUGIN_MAGIC);
    assert_int_equal(jv_plugin_descriptor.abi_major, JV_ABI_MAJOR);
    assert_int_equal(jv_plugin_descriptor.abi_minor, JV_ABI_MINOR);
    assert_int_equal(jv_plugin_descriptor.struct_size, sizeof(jv_plugin_info));
    assert_int_equal(jv_plugin_descriptor.flags, JV_PLUGIN_CONCURRENT);
    assert_string_equal(jv_plugin_descriptor.name, "layout");
}

/* JV_STRUCT_HAS on a version 1 sized vtable: the old members, not the new. */
static void test_struct_has_tells_an_old_vtable(void **state)
{
    (void)state;
    jv_sentiment_weight_api old = {.struct_size = offsetof(jv_sentiment_weight_api, context)};
    assert_true(JV_STRUCT_HAS(&old, jv_sentiment_weight_api, narrate));
    assert_false(JV_STRUCT_HAS(&old, jv_sentiment_weight_api, context));
    assert_false(JV_STRUCT_HAS(&old, jv_sentiment_weight_api, narrate2));
    old.struct_size = sizeof old;
    assert_true(JV_STRUCT_HAS(&old, jv_sentiment_weight_api, narrate2));
}

/* jv_sized_copy writes exactly min(caller's size, filled size) and keeps
 * the caller's struct_size; below the minimum it writes nothing. */
static void test_sized_copy_never_writes_past_either_size(void **state)
{
    (void)state;
    jv_grok_rating2 filled = {.struct_size = sizeof filled, .available = 1, .score = 0.5,
                              .fetched_at_ms = 42};
    snprintf(filled.reason, sizeof filled.reason, "r");
    unsigned char buffer[sizeof filled + 16];
    memset(buffer, 0xAB, sizeof buffer);
    size_t shorter = offsetof(jv_grok_rating2, summary);
    memcpy(buffer, &shorter, sizeof shorter);
    assert_int_equal(jv_sized_copy(buffer, &filled, sizeof filled, shorter), 0);
    jv_grok_rating2 seen;
    memcpy(&seen, buffer, shorter);
    assert_int_equal(seen.struct_size, shorter);
    assert_int_equal(seen.available, 1);
    assert_true(seen.confidence == 0.0 && seen.score == 0.5);
    for (size_t i = shorter; i < sizeof buffer; i++)
        assert_int_equal(buffer[i], 0xAB);

    size_t longer = sizeof buffer;
    memcpy(buffer, &longer, sizeof longer);
    assert_int_equal(jv_sized_copy(buffer, &filled, sizeof filled, sizeof filled), 0);
    memcpy(&seen, buffer, sizeof seen);
    assert_int_equal(seen.fetched_at_ms, 42);
    assert_string_equal(seen.reason, "r");
    for (size_t i = sizeof filled; i < sizeof buffer; i++)
        assert_int_equal(buffer[i], 0xAB);

    jv_grok_rating2 too_small = {.struct_size = sizeof too_small - 1};
    assert_int_equal(jv_sized_copy(&too_small, &filled, sizeof filled, sizeof filled), -1);
    assert_int_equal(too_small.available, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magic_spells_jvpl_in_memory),
        cmocka_unit_test(test_host_table_announces_v1_and_its_size),
        cmocka_unit_test(test_host_table_has_every_member_filled),
        cmocka_unit_test(test_api_has_is_false_for_a_shorter_table),
        cmocka_unit_test(test_define_macro_fills_the_frozen_head),
        cmocka_unit_test(test_struct_has_tells_an_old_vtable),
        cmocka_unit_test(test_sized_copy_never_writes_past_either_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
