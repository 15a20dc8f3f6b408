/* Freezes the v1 plugin ABI on x86_64: every public struct's member offsets
 * and sizes, and the constants. An accidental layout change fails the build
 * (static asserts) before any plugin can be broken by it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jarvis/plugin.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magic_spells_jvpl_in_memory),
        cmocka_unit_test(test_host_table_announces_v1_and_its_size),
        cmocka_unit_test(test_host_table_has_every_member_filled),
        cmocka_unit_test(test_api_has_is_false_for_a_shorter_table),
        cmocka_unit_test(test_define_macro_fills_the_frozen_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
