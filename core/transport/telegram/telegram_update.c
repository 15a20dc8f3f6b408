/* Decoding Telegram updates: one update into a dispatcher message, and a
 * getUpdates body update by update when jansson refuses the whole. */
#include "transport/telegram/telegram_update.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_pick.h"
#include "base/log.h"

/* ---- parsing ---- */

static void mark_bad(struct parsed_update *out, const char *problem)
{
    out->kind = UPDATE_BAD;
    snprintf(out->problem, sizeof out->problem, "%s", problem);
}

static const char *first_known_member(json_t *object, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (json_object_get(object, names[i]) != NULL)
            return names[i];
    return NULL;
}

/* The non-text kinds a debug line names (message_values keeps them). */
#define CONTENT_KINDS                                                                              \
    "photo", "sticker", "document", "video", "voice", "audio", "animation", "location", "contact", \
        "new_chat_members", "left_chat_member", "poll", "migrate_to_chat_id"

/* Which kind of non-text message it is, for the debug line. */
static const char *message_content_kind(json_t *message)
{
    static const char *const kinds[] = {CONTENT_KINDS, NULL};
    const char *kind = first_known_member(message, kinds);
    return kind ? kind : "non-text message";
}

static const char *update_kind_name(json_t *update)
{
    const char *key;
    json_t *value;
    json_object_foreach(update, key, value)
    {
        if (strcmp(key, "update_id") != 0)
            return key;
    }
    return "empty update";
}

static void parse_sender(json_t *from, struct parsed_update *out)
{
    out->message.user_name = "";
    if (!json_is_object(from))
        return; /* channel posts and anonymous admins have no sender */
    json_t *id = json_object_get(from, "id");
    if (json_is_integer(id))
        out->message.user_id = json_integer_value(id);
    json_t *username = json_object_get(from, "username");
    json_t *first_name = json_object_get(from, "first_name");
    if (json_is_string(username))
        out->message.user_name = json_string_value(username);
    else if (json_is_string(first_name))
        out->message.user_name = json_string_value(first_name);
    json_t *language = json_object_get(from, "language_code");
    if (json_is_string(language))
        out->message.language_code = json_string_value(language);
}

/* A message's words: its text, else the caption of a photo or document
 * (so "/sentiment great chart" under a picture is a command). */
static json_t *message_words(json_t *message)
{
    json_t *text = json_object_get(message, "text");
    return text != NULL ? text : json_object_get(message, "caption");
}

static const char *replied_text(json_t *message)
{
    json_t *reply = json_object_get(message, "reply_to_message");
    json_t *words = json_is_object(reply) ? message_words(reply) : NULL;
    return json_is_string(words) ? json_string_value(words) : "";
}

static int is_reply_to(json_t *message, int64_t bot_user_id)
{
    json_t *reply = json_object_get(message, "reply_to_message");
    json_t *from = json_is_object(reply) ? json_object_get(reply, "from") : NULL;
    json_t *id = json_is_object(from) ? json_object_get(from, "id") : NULL;
    return bot_user_id != 0 && json_is_integer(id) && json_integer_value(id) == bot_user_id;
}

/* The Bot API sets message_thread_id on replies in any supergroup, but
 * sendMessage takes it "for forum supergroups only": only a message marked
 * is_topic_message names a topic to answer in. A malformed id is no reason
 * to drop the message; the answer then goes to the General topic. */
static int64_t forum_topic(json_t *message)
{
    if (!json_is_true(json_object_get(message, "is_topic_message")))
        return 0;
    json_t *thread_id = json_object_get(message, "message_thread_id");
    if (!json_is_integer(thread_id) || json_integer_value(thread_id) <= 0)
        return 0;
    return json_integer_value(thread_id);
}

/* Where a message is: chat.id, chat.type and message_id into out->message,
 * 0; or -1 with the first missing one named ("<where>.chat.id is missing
 * or not an integer"). Messages and the messages buttons are on alike. */
static int read_message_place(json_t *message, const char *where, struct parsed_update *out)
{
    char problem[96];
    json_t *chat = json_object_get(message, "chat");
    json_t *chat_id = json_is_object(chat) ? json_object_get(chat, "id") : NULL;
    json_t *chat_type = json_is_object(chat) ? json_object_get(chat, "type") : NULL;
    json_t *message_id = json_object_get(message, "message_id");
    if (!json_is_object(chat))
        snprintf(problem, sizeof problem, "%s.chat is missing or not an object", where);
    else if (!json_is_integer(chat_id))
        snprintf(problem, sizeof problem, "%s.chat.id is missing or not an integer", where);
    else if (!json_is_string(chat_type))
        snprintf(problem, sizeof problem, "%s.chat.type is missing or not a string", where);
    else if (!json_is_integer(message_id))
        snprintf(problem, sizeof problem, "%s.message_id is missing or not an integer", where);
    else {
        out->message.chat_id = json_integer_value(chat_id);
        out->message.chat_type = json_string_value(chat_type);
        out->message.message_id = json_integer_value(message_id);
        return 0;
    }
    mark_bad(out, problem);
    return -1;
}

static void parse_message(json_t *message, int64_t bot_user_id, struct parsed_update *out)
{
    if (read_message_place(message, "message", out) != 0)
        return;
    json_t *text = message_words(message);
    if (text == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = message_content_kind(message);
        return;
    }
    if (!json_is_string(text)) {
        mark_bad(out, "message.text is not a string");
        return;
    }
    out->kind = UPDATE_TEXT;
    out->message.text = json_string_value(text);
    parse_sender(json_object_get(message, "from"), out);
    out->message.is_reply_to_bot = is_reply_to(message, bot_user_id);
    out->message.message_thread_id = forum_topic(message);
    out->message.reply_to_text = replied_text(message);
}

/* A button press: routed like a message of the presser in the chat of the
 * message the button is on. Presses on inline-mode messages (no message)
 * and game buttons (no data) are not ours to answer. */
static void parse_callback(json_t *query, int64_t bot_user_id, struct parsed_update *out)
{
    json_t *id = json_object_get(query, "id");
    json_t *data = json_object_get(query, "data");
    json_t *message = json_object_get(query, "message");
    if (!json_is_string(id)) {
        mark_bad(out, "callback_query.id is missing or not a string");
        return;
    }
    if (!json_is_string(data) || !json_is_object(message)) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = "callback_query without data or message";
        return;
    }
    if (read_message_place(message, "callback_query.message", out) != 0)
        return;
    json_t *words = message_words(message);
    out->kind = UPDATE_TEXT;
    out->message.text = json_is_string(words) ? json_string_value(words) : "";
    out->message.callback_id = json_string_value(id);
    out->message.callback_data = json_string_value(data);
    parse_sender(json_object_get(query, "from"), out);
    out->message.message_thread_id = forum_topic(message);
    (void)bot_user_id;
}

void telegram_parse_update(json_t *update, int64_t bot_user_id, struct parsed_update *out)
{
    telegram_parse_update_with(update, bot_user_id, 0, out);
}

void telegram_parse_update_with(json_t *update, int64_t bot_user_id, unsigned flags,
                                struct parsed_update *out)
{
    memset(out, 0, sizeof *out);
    out->update_id = -1;
    if (!json_is_object(update)) {
        mark_bad(out, "update is not a JSON object");
        return;
    }
    json_t *id = json_object_get(update, "update_id");
    if (!json_is_integer(id) || json_integer_value(id) < 0) {
        mark_bad(out, "update_id is missing or not a non-negative integer");
        return;
    }
    out->update_id = json_integer_value(id);
    out->message.update_id = out->update_id;
    json_t *undecodable = json_object_get(update, "undecodable");
    if (json_is_string(undecodable)) {
        char problem[128];
        snprintf(problem, sizeof problem, "undecodable JSON (%s)", json_string_value(undecodable));
        mark_bad(out, problem);
        return;
    }
    json_t *query = json_object_get(update, "callback_query");
    if (json_is_object(query)) {
        parse_callback(query, bot_user_id, out);
        return;
    }
    json_t *message = json_object_get(update, "message");
    json_t *edited = json_object_get(update, "edited_message");
    if (message == NULL && edited != NULL && (flags & TELEGRAM_PARSE_EDITS)) {
        message = edited;
        out->message.is_edited = 1;
    }
    if (message == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = update_kind_name(update);
        return;
    }
    if (!json_is_object(message)) {
        mark_bad(out, "message is not an object");
        return;
    }
    parse_message(message, bot_user_id, out);
}

/* ---- lenient decoding ---- */

/* Index just past the JSON value starting at text[start] (strings and
 * nesting followed; nothing else checked), or 0 when it does not end. */
static size_t skip_value(const char *text, size_t length, size_t start)
{
    size_t depth = 0, i = start;
    int in_string = 0;
    for (; i < length; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"')
            in_string = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* the end of the enclosing array: a scalar ended */
            if (--depth == 0)
                return i + 1;
        } else if (c == ',' && depth == 0)
            return i;
    }
    return 0;
}

/* The update_id of an element jansson could not read: the first
 * "update_id": <digits> at its top level. -1 when there is none. */
static int64_t scan_update_id(const char *text, size_t length)
{
    static const char key[] = "\"update_id\"";
    size_t depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (c == '"') {
            if (depth == 1 && length - i >= sizeof key - 1 &&
                memcmp(text + i, key, sizeof key - 1) == 0) {
                size_t j = i + sizeof key - 1;
                while (j < length && (text[j] == ' ' || text[j] == ':' || text[j] == '\t'))
                    j++;
                int64_t id = 0;
                size_t digits = 0;
                int overflow = 0;
                for (; j < length && text[j] >= '0' && text[j] <= '9'; j++, digits++) {
                    int digit = text[j] - '0';
                    if (id > (INT64_MAX - digit) / 10) {
                        overflow = 1;
                        break;
                    }
                    id = id * 10 + digit;
                }
                return digits > 0 && !overflow ? id : -1;
            }
            in_string = 1;
        }
    }
    return -1;
}

static json_t *undecodable_element(const char *text, size_t length, const char *why)
{
    json_t *element = json_object();
    int64_t id = scan_update_id(text, length);
    if (id >= 0)
        json_object_set_new(element, "update_id", json_integer(id));
    json_object_set_new(element, "undecodable", json_string(why));
    return element;
}

/* What telegram_parse_update_with reads, and only that, is built: the
 * update's message, edited_message or callback_query, in them the chat, the
 * sender, the replied-to message and its sender, each with the members the
 * parser reads. A message keeps what the parser reads and the kinds it
 * names a non-text message by (objects and arrays among them stand as
 * null); the update keeps all its members (its kind is its first member
 * after update_id). */
static const char *const no_names[] = {NULL};
static const char *const sender_values[] = {"id", "username", "first_name", "language_code", NULL};
static const struct json_pick_rule sender_rule = {no_names, NULL, sender_values};
static const char *const chat_values[] = {"id", "type", NULL};
static const struct json_pick_rule chat_rule = {no_names, NULL, chat_values};
static const char *const replied_sender_values[] = {"id", NULL};
static const struct json_pick_rule replied_sender_rule = {no_names, NULL, replied_sender_values};
static const char *const replied_names[] = {"from", NULL};
static const struct json_pick_rule *const replied_rules[] = {&replied_sender_rule};
static const char *const replied_values[] = {"text", "caption", NULL};
static const struct json_pick_rule replied_rule = {replied_names, replied_rules, replied_values};
static const char *const message_names[] = {"chat", "from", "reply_to_message", NULL};
static const struct json_pick_rule *const message_rules[] = {&chat_rule, &sender_rule,
                                                             &replied_rule};
/* What parse_message and parse_callback read of a message besides its
 * objects, and the kinds message_content_kind names: the rest (date,
 * entities, forwards, edit dates...) is checked but not built. */
static const char *const message_values[] = {
    "message_id", "text", "caption", "is_topic_message", "message_thread_id", CONTENT_KINDS, NULL};
static const struct json_pick_rule message_rule = {message_names, message_rules, message_values};
static const char *const callback_names[] = {"message", "from", NULL};
static const struct json_pick_rule *const callback_rules[] = {&message_rule, &sender_rule};
static const char *const callback_values[] = {"id", "data", NULL};
static const struct json_pick_rule callback_rule = {callback_names, callback_rules,
                                                    callback_values};
static const char *const update_names[] = {"message", "edited_message", "callback_query", NULL};
static const struct json_pick_rule *const update_rules[] = {&message_rule, &message_rule,
                                                            &callback_rule};
static const struct json_pick_rule update_rule = {update_names, update_rules, NULL};

/* The element at body[offset]: its picked tree (*end past it), or an
 * undecodable marker over the bytes a lenient skip gives it (*end past
 * those; 0 when it does not end). depth: the levels around it. */
static json_t *read_element(const char *body, size_t length, size_t offset, int depth, size_t *end,
                            int *undecodable)
{
    char why[96];
    size_t used = 0;
    json_t *element =
        json_pick(body + offset, length - offset, &update_rule, depth, &used, why, sizeof why);
    *undecodable = element == NULL;
    if (element != NULL) {
        *end = offset + used;
        return element;
    }
    *end = skip_value(body, length, offset);
    if (*end <= offset)
        return NULL;
    return undecodable_element(body + offset, *end - offset, why);
}

/* Where the "result" array's '[' is, after checking "ok": true is there. */
static const char *find_result_array(const char *body, size_t length)
{
    const char *ok = memmem(body, length, "\"ok\"", 4);
    const char *result = memmem(body, length, "\"result\"", 8);
    if (ok == NULL || result == NULL)
        return NULL;
    const char *cursor = ok + 4;
    while (cursor < body + length && (*cursor == ' ' || *cursor == ':'))
        cursor++;
    if (body + length - cursor < 4 || memcmp(cursor, "true", 4) != 0)
        return NULL;
    cursor = result + 8;
    while (cursor < body + length && (*cursor == ' ' || *cursor == ':' || *cursor == '\n'))
        cursor++;
    return cursor < body + length && *cursor == '[' ? cursor : NULL;
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The elements from the array whose '[' is at body[offset] up to its ']';
 * *close is where that ']' is. NULL when the array does not end, or, when
 * strict, when its commas are not one between each two elements. */
static json_t *read_elements(const char *body, size_t length, size_t offset, int strict,
                             size_t *close, size_t *undecodable)
{
    json_t *updates = json_array();
    offset++;
    for (int first = 1; updates != NULL; first = 0) {
        size_t commas = 0;
        while (offset < length && (is_json_space(body[offset]) || body[offset] == ',')) {
            commas += body[offset] == ',';
            offset++;
        }
        if (offset >= length)
            break;
        if (body[offset] == ']') {
            if (strict && commas > 0)
                break;
            *close = offset;
            return updates;
        }
        if (strict && commas != (first ? 0u : 1u))
            break;
        size_t end;
        int bad;
        /* an element sits in the envelope object and its array */
        json_t *element = read_element(body, length, offset, 2, &end, &bad);
        if (element == NULL || json_array_append_new(updates, element) != 0)
            break;
        *undecodable += (size_t)bad;
        offset = end;
    }
    /* a body cut short is a transfer that failed, not updates to skip */
    json_decref(updates);
    return NULL;
}

json_t *telegram_decode_updates_leniently(const char *body, size_t length)
{
    if (body == NULL)
        return NULL;
    const char *array = find_result_array(body, length);
    if (array == NULL)
        return NULL;
    size_t close, undecodable = 0;
    return read_elements(body, length, (size_t)(array - body), 0, &close, &undecodable);
}

json_t *telegram_read_updates(const char *body, size_t length)
{
    static const char head[] = "{\"ok\":true,\"result\":[";
    if (body == NULL || length < sizeof head - 1 || memcmp(body, head, sizeof head - 1) != 0)
        return NULL;
    size_t close = 0, undecodable = 0;
    json_t *updates = read_elements(body, length, sizeof head - 2, 1, &close, &undecodable);
    if (updates == NULL)
        return NULL;
    /* after the array only the envelope's '}': another member (a second
     * "ok", say) is for the full decode to weigh */
    size_t rest = close + 1;
    while (rest < length && is_json_space(body[rest]))
        rest++;
    int closed = rest < length && body[rest] == '}';
    for (rest++; closed && rest < length; rest++)
        closed = is_json_space(body[rest]);
    if (undecodable > 0 || !closed) {
        json_decref(updates);
        return NULL;
    }
    return updates;
}

json_t *telegram_decode_update_leniently(const char *body, size_t length)
{
    if (body == NULL)
        return NULL;
    size_t start = 0;
    while (start < length && is_json_space(body[start]))
        start++;
    if (start >= length || body[start] != '{')
        return NULL;
    size_t end = skip_value(body, length, start);
    if (end <= start || body[end - 1] != '}')
        return NULL;
    for (size_t rest = end; rest < length; rest++) {
        if (!is_json_space(body[rest]))
            return NULL;
    }
    size_t used;
    int bad;
    json_t *update = read_element(body, end, start, 0, &used, &bad);
    if (update != NULL && !json_is_object(update)) { /* cannot be after the '{' check */
        json_decref(update);
        return NULL;
    }
    return update;
}

json_t *telegram_allowed_updates(void)
{
    json_t *allowed = json_array();
    json_array_append_new(allowed, json_string("message"));
    json_array_append_new(allowed, json_string("edited_message"));
    json_array_append_new(allowed, json_string("callback_query"));
    return allowed;
}
