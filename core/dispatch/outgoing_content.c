/* Building rich outgoing messages (outgoing_content.h): the checks Telegram
 * would make on a keyboard are made here, at build time, so a bad button is
 * the plugin's JV_E_INVAL and never a 400 after the commit. */
#include "dispatch/outgoing_content.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int text_is_empty(const char *text)
{
    return text == NULL || text[0] == '\0';
}

static json_t *button_json(const jv_button *button, size_t index, char *problem,
                           size_t problem_size)
{
    if (text_is_empty(button->text)) {
        snprintf(problem, problem_size, "button %zu has no text", index + 1);
        return NULL;
    }
    int has_data = !text_is_empty(button->callback_data), has_url = !text_is_empty(button->url);
    if (has_data == has_url) {
        snprintf(problem, problem_size,
                 "button %zu ('%.32s') needs exactly one of callback_data "
                 "and url",
                 index + 1, button->text);
        return NULL;
    }
    if (has_data && strlen(button->callback_data) > JV_CALLBACK_DATA_MAX) {
        snprintf(problem, problem_size,
                 "button %zu ('%.32s'): callback_data of %zu bytes, "
                 "Telegram takes at most %d",
                 index + 1, button->text, strlen(button->callback_data), JV_CALLBACK_DATA_MAX);
        return NULL;
    }
    json_t *object = json_object();
    json_object_set_new(object, "text", json_string(button->text));
    json_object_set_new(object, has_data ? "callback_data" : "url",
                        json_string(has_data ? button->callback_data : button->url));
    if (json_object_size(object) != 2) { /* invalid UTF-8 makes json_string NULL */
        snprintf(problem, problem_size, "button %zu: text or data is not valid UTF-8", index + 1);
        json_decref(object);
        return NULL;
    }
    return object;
}

char *outgoing_keyboard(const jv_button *buttons, size_t count, char *problem, size_t problem_size)
{
    json_t *rows = json_array(), *row = NULL;
    for (size_t i = 0; i < count; i++) {
        json_t *button = button_json(&buttons[i], i, problem, problem_size);
        if (button == NULL) {
            json_decref(rows);
            return NULL;
        }
        if (row == NULL || buttons[i].new_row) {
            row = json_array();
            json_array_append_new(rows, row);
        }
        json_array_append_new(row, button);
    }
    json_t *markup = json_pack("{so}", "inline_keyboard", rows);
    char *text = markup != NULL ? json_dumps(markup, JSON_COMPACT) : NULL;
    json_decref(markup);
    if (text == NULL)
        snprintf(problem, problem_size, "out of memory building the keyboard");
    return text;
}

static int copy_file(struct pending_reply *reply, const jv_outgoing *content, char *problem,
                     size_t problem_size)
{
    size_t limit = content->file_kind == JV_FILE_PHOTO ? OUTGOING_PHOTO_MAX : OUTGOING_DOCUMENT_MAX;
    if (content->file == NULL || content->file_length == 0) {
        snprintf(problem, problem_size, "a file without bytes");
        return JV_E_INVAL;
    }
    if (content->file_length > limit) {
        snprintf(problem, problem_size, "a file of %zu bytes; Telegram takes at most %zu MB here",
                 content->file_length, limit / (1024 * 1024));
        return JV_E_INVAL;
    }
    reply->method = strdup(content->file_kind == JV_FILE_PHOTO ? "sendPhoto" : "sendDocument");
    reply->file = malloc(content->file_length);
    const char *name = !text_is_empty(content->file_name)    ? content->file_name
                       : content->file_kind == JV_FILE_PHOTO ? "photo.png"
                                                             : "file.bin";
    reply->file_name = strdup(name);
    if (reply->method == NULL || reply->file == NULL || reply->file_name == NULL)
        return JV_E_NOMEM;
    memcpy(reply->file, content->file, content->file_length);
    reply->file_length = content->file_length;
    return JV_OK;
}

static int fill(struct pending_reply *reply, const jv_outgoing *content, int64_t edit_target,
                char *problem, size_t problem_size)
{
    if (content->file_kind != JV_FILE_NONE && edit_target != 0) {
        snprintf(problem, problem_size, "an edit cannot change a file");
        return JV_E_INVAL;
    }
    if (content->file_kind != JV_FILE_NONE && content->file_kind != JV_FILE_PHOTO &&
        content->file_kind != JV_FILE_DOCUMENT) {
        snprintf(problem, problem_size, "unknown file kind %d", content->file_kind);
        return JV_E_INVAL;
    }
    if (content->file_kind == JV_FILE_NONE && edit_target == 0 && text_is_empty(content->text)) {
        snprintf(problem, problem_size, "a message without text");
        return JV_E_INVAL;
    }
    if (edit_target != 0 && text_is_empty(content->text) && content->button_count == 0 &&
        content->text != NULL) {
        snprintf(problem, problem_size, "an edit to an empty text");
        return JV_E_INVAL;
    }
    reply->flags = content->flags & (JV_FORMAT_HTML | JV_LINK_PREVIEW);
    reply->text = strdup(content->text ? content->text : "");
    if (reply->text == NULL)
        return JV_E_NOMEM;
    if (content->button_count > 0 || edit_target != 0) {
        reply->reply_markup = outgoing_keyboard(
            content->buttons, content->buttons ? content->button_count : 0, problem, problem_size);
        if (reply->reply_markup == NULL)
            return JV_E_INVAL;
    }
    if (edit_target != 0) {
        reply->target = edit_target;
        reply->method =
            strdup(content->text != NULL ? "editMessageText" : "editMessageReplyMarkup");
        return reply->method != NULL ? JV_OK : JV_E_NOMEM;
    }
    if (content->file_kind != JV_FILE_NONE)
        return copy_file(reply, content, problem, problem_size);
    return JV_OK;
}

int outgoing_build(struct pending_reply *reply, const jv_outgoing *content, int64_t chat_id,
                   int64_t thread_id, int64_t edit_target, char *problem, size_t problem_size)
{
    memset(reply, 0, sizeof *reply);
    problem[0] = '\0';
    if (content == NULL || content->struct_size < sizeof(jv_outgoing)) {
        snprintf(problem, problem_size,
                 "jv_outgoing of %zu bytes, expected %zu; rebuild "
                 "against include/jarvis/plugin.h",
                 content ? content->struct_size : 0, sizeof(jv_outgoing));
        return JV_E_INVAL;
    }
    reply->chat_id = chat_id;
    reply->thread_id = thread_id;
    int result = fill(reply, content, edit_target, problem, problem_size);
    if (result != JV_OK) {
        if (result == JV_E_NOMEM)
            snprintf(problem, problem_size, "out of memory");
        pending_reply_free(reply);
    }
    return result;
}

int outgoing_callback_answer(struct pending_reply *reply, int64_t chat_id, const char *query_id,
                             const char *text, int show_alert)
{
    memset(reply, 0, sizeof *reply);
    json_t *members = json_pack("{ss ss sb}", "callback_query_id", query_id ? query_id : "", "text",
                                text ? text : "", "show_alert", show_alert != 0);
    char *object = members != NULL ? json_dumps(members, JSON_COMPACT) : NULL;
    json_decref(members);
    reply->chat_id = chat_id;
    reply->method = strdup("answerCallbackQuery");
    reply->text = strdup("");
    if (object != NULL) { /* the members without the braces */
        size_t length = strlen(object);
        reply->extra = strndup(object + 1, length - 2);
    }
    free(object);
    if (reply->method == NULL || reply->text == NULL || reply->extra == NULL) {
        pending_reply_free(reply);
        return JV_E_NOMEM;
    }
    return JV_OK;
}

/* ---- the per-part parameters ---- */

struct members {
    char *text;
    size_t length;
    int failed;
};

static void add_member(struct members *members, const char *member)
{
    if (members->failed || member == NULL || member[0] == '\0')
        return;
    size_t more = strlen(member) + 1;
    char *grown = realloc(members->text, members->length + more + 2);
    if (grown == NULL) {
        members->failed = 1;
        return;
    }
    members->text = grown;
    members->text[members->length] = members->length == 0 ? '{' : ',';
    memcpy(members->text + members->length + 1, member, more);
    members->length += more;
}

static int is_method(const struct pending_reply *reply, const char *method)
{
    const char *own = reply->method != NULL && reply->method[0] ? reply->method : "sendMessage";
    return strcmp(own, method) == 0;
}

char *outgoing_options(const struct pending_reply *reply, int first, int last)
{
    struct members members = {0};
    int sends = is_method(reply, "sendMessage") || is_method(reply, "sendPhoto") ||
                is_method(reply, "sendDocument");
    int has_text = sends || is_method(reply, "editMessageText");
    if (has_text && (reply->flags & JV_FORMAT_HTML))
        add_member(&members, "\"parse_mode\":\"HTML\"");
    /* bot answers carry no link preview unless asked: a quoted URL's card
     * would bury the answer */
    if ((is_method(reply, "sendMessage") || is_method(reply, "editMessageText")) &&
        !(reply->flags & JV_LINK_PREVIEW))
        add_member(&members, "\"link_preview_options\":{\"is_disabled\":true}");
    if (sends && first && reply->quote_message_id > 0) {
        char quote[96];
        snprintf(quote, sizeof quote,
                 "\"reply_parameters\":{\"message_id\":%" PRId64
                 ",\"allow_sending_without_reply\":true}",
                 reply->quote_message_id);
        add_member(&members, quote);
    }
    if (last && reply->reply_markup != NULL) {
        size_t size = strlen(reply->reply_markup) + 20;
        char *markup = malloc(size);
        if (markup != NULL)
            snprintf(markup, size, "\"reply_markup\":%s", reply->reply_markup);
        else
            members.failed = 1;
        add_member(&members, markup);
        free(markup);
    }
    add_member(&members, reply->extra);
    if (members.failed) {
        free(members.text);
        return NULL;
    }
    if (members.text == NULL)
        return strdup("");
    members.text[members.length] = '}';
    members.text[members.length + 1] = '\0';
    return members.text;
}
