/* Decoding Telegram updates: one update into a dispatcher message, and a
 * getUpdates body update by update when jansson refuses the whole. */
#include "transport/telegram/telegram_update.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_pick.h"
#include "base/pick_tree.h"
#include "base/log.h"

/* ---- parsing ---- */

static void mark_bad(struct parsed_update *out, const char *problem)
{
    out->kind = UPDATE_BAD;
    snprintf(out->problem, sizeof out->problem, "%s", problem);
}

static const char *first_known_member(const struct pick_node *object, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (pick_get(object, names[i]) != NULL)
            return names[i];
    return NULL;
}

/* The non-text kinds a debug line names (message_values keeps them). */
#define CONTENT_KINDS                                                                              \
    "photo", "sticker", "document", "video", "voice", "audio", "animation", "location", "contact", \
        "new_chat_members", "left_chat_member", "poll", "migrate_to_chat_id"

/* Which kind of non-text message it is, for the debug line. */
static const char *message_content_kind(const struct pick_node *message)
{
    static const char *const kinds[] = {CONTENT_KINDS, NULL};
    const char *kind = first_known_member(message, kinds);
    return kind ? kind : "non-text message";
}

static const char *update_kind_name(const struct pick_node *update)
{
    for (const struct pick_node *member = update->first; member != NULL; member = member->next)
        if (strcmp(member->name, "update_id") != 0)
            return member->name;
    return "empty update";
}

static const char *string_of(const struct pick_node *node)
{
    return node->text;
}

static void parse_sender(const struct pick_node *from, struct parsed_update *out)
{
    out->message.user_name = "";
    if (!pick_is(from, PICK_OBJECT))
        return; /* channel posts and anonymous admins have no sender */
    const struct pick_node *id = pick_get(from, "id");
    if (pick_is(id, PICK_INTEGER))
        out->message.user_id = id->integer;
    const struct pick_node *username = pick_get(from, "username");
    const struct pick_node *first_name = pick_get(from, "first_name");
    if (pick_is(username, PICK_STRING))
        out->message.user_name = string_of(username);
    else if (pick_is(first_name, PICK_STRING))
        out->message.user_name = string_of(first_name);
    const struct pick_node *language = pick_get(from, "language_code");
    if (pick_is(language, PICK_STRING))
        out->message.language_code = string_of(language);
}

/* A message's words: its text, else the caption of a photo or document
 * (so "/sentiment great chart" under a picture is a command). */
static const struct pick_node *message_words(const struct pick_node *message)
{
    const struct pick_node *text = pick_get(message, "text");
    return text != NULL ? text : pick_get(message, "caption");
}

static const char *replied_text(const struct pick_node *message)
{
    const struct pick_node *reply = pick_get(message, "reply_to_message");
    const struct pick_node *words = pick_is(reply, PICK_OBJECT) ? message_words(reply) : NULL;
    return pick_is(words, PICK_STRING) ? string_of(words) : "";
}

static int is_reply_to(const struct pick_node *message, int64_t bot_user_id)
{
    const struct pick_node *reply = pick_get(message, "reply_to_message");
    const struct pick_node *from = pick_get(reply, "from");
    const struct pick_node *id = pick_get(from, "id");
    return bot_user_id != 0 && pick_is(id, PICK_INTEGER) && id->integer == bot_user_id;
}

/* The Bot API sets message_thread_id on replies in any supergroup, but
 * sendMessage takes it "for forum supergroups only": only a message marked
 * is_topic_message names a topic to answer in. A malformed id is no reason
 * to drop the message; the answer then goes to the General topic. */
static int64_t forum_topic(const struct pick_node *message)
{
    if (!pick_is(pick_get(message, "is_topic_message"), PICK_TRUE))
        return 0;
    const struct pick_node *thread_id = pick_get(message, "message_thread_id");
    if (!pick_is(thread_id, PICK_INTEGER) || thread_id->integer <= 0)
        return 0;
    return thread_id->integer;
}

/* Where a message is: chat.id, chat.type and message_id into out->message,
 * 0; or -1 with the first missing one named ("<where>.chat.id is missing
 * or not an integer"). Messages and the messages buttons are on alike. */
static int read_message_place(const struct pick_node *message, const char *where,
                              struct parsed_update *out)
{
    char problem[96];
    const struct pick_node *chat = pick_get(message, "chat");
    const struct pick_node *chat_id = pick_get(chat, "id");
    const struct pick_node *chat_type = pick_get(chat, "type");
    const struct pick_node *message_id = pick_get(message, "message_id");
    if (!pick_is(chat, PICK_OBJECT))
        snprintf(problem, sizeof problem, "%s.chat is missing or not an object", where);
    else if (!pick_is(chat_id, PICK_INTEGER))
        snprintf(problem, sizeof problem, "%s.chat.id is missing or not an integer", where);
    else if (!pick_is(chat_type, PICK_STRING))
        snprintf(problem, sizeof problem, "%s.chat.type is missing or not a string", where);
    else if (!pick_is(message_id, PICK_INTEGER))
        snprintf(problem, sizeof problem, "%s.message_id is missing or not an integer", where);
    else {
        out->message.chat_id = chat_id->integer;
        out->message.chat_type = string_of(chat_type);
        out->message.message_id = message_id->integer;
        return 0;
    }
    mark_bad(out, problem);
    return -1;
}

static void parse_message(const struct pick_node *message, int64_t bot_user_id,
                          struct parsed_update *out)
{
    if (read_message_place(message, "message", out) != 0)
        return;
    const struct pick_node *text = message_words(message);
    if (text == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = message_content_kind(message);
        return;
    }
    if (!pick_is(text, PICK_STRING)) {
        mark_bad(out, "message.text is not a string");
        return;
    }
    out->kind = UPDATE_TEXT;
    out->message.text = string_of(text);
    parse_sender(pick_get(message, "from"), out);
    out->message.is_reply_to_bot = is_reply_to(message, bot_user_id);
    out->message.message_thread_id = forum_topic(message);
    out->message.reply_to_text = replied_text(message);
}

/* A button press: routed like a message of the presser in the chat of the
 * message the button is on. Presses on inline-mode messages (no message)
 * and game buttons (no data) are not ours to answer. */
static void parse_callback(const struct pick_node *query, struct parsed_update *out)
{
    const struct pick_node *id = pick_get(query, "id");
    const struct pick_node *data = pick_get(query, "data");
    const struct pick_node *message = pick_get(query, "message");
    if (!pick_is(id, PICK_STRING)) {
        mark_bad(out, "callback_query.id is missing or not a string");
        return;
    }
    if (!pick_is(data, PICK_STRING) || !pick_is(message, PICK_OBJECT)) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = "callback_query without data or message";
        return;
    }
    if (read_message_place(message, "callback_query.message", out) != 0)
        return;
    const struct pick_node *words = message_words(message);
    out->kind = UPDATE_TEXT;
    out->message.text = pick_is(words, PICK_STRING) ? string_of(words) : "";
    out->message.callback_id = string_of(id);
    out->message.callback_data = string_of(data);
    parse_sender(pick_get(query, "from"), out);
    out->message.message_thread_id = forum_topic(message);
}

void telegram_parse_update_node(const struct pick_node *update, int64_t bot_user_id, unsigned flags,
                                struct parsed_update *out)
{
    memset(out, 0, sizeof *out);
    out->update_id = -1;
    if (!pick_is(update, PICK_OBJECT)) {
        mark_bad(out, "update is not a JSON object");
        return;
    }
    const struct pick_node *id = pick_get(update, "update_id");
    if (!pick_is(id, PICK_INTEGER) || id->integer < 0) {
        mark_bad(out, "update_id is missing or not a non-negative integer");
        return;
    }
    out->update_id = id->integer;
    out->message.update_id = out->update_id;
    const struct pick_node *undecodable = pick_get(update, "undecodable");
    if (pick_is(undecodable, PICK_STRING)) {
        char problem[128];
        snprintf(problem, sizeof problem, "undecodable JSON (%s)", string_of(undecodable));
        mark_bad(out, problem);
        return;
    }
    const struct pick_node *query = pick_get(update, "callback_query");
    if (pick_is(query, PICK_OBJECT)) {
        parse_callback(query, out);
        return;
    }
    const struct pick_node *message = pick_get(update, "message");
    const struct pick_node *edited = pick_get(update, "edited_message");
    if (message == NULL && edited != NULL && (flags & TELEGRAM_PARSE_EDITS)) {
        message = edited;
        out->message.is_edited = 1;
    }
    if (message == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = update_kind_name(update);
        return;
    }
    if (!pick_is(message, PICK_OBJECT)) {
        mark_bad(out, "message is not an object");
        return;
    }
    parse_message(message, bot_user_id, out);
}

void telegram_parse_update(json_t *update, int64_t bot_user_id, struct parsed_update *out)
{
    telegram_parse_update_with(update, bot_user_id, 0, out);
}

/* The jansson tree read as nodes: its strings and names are borrowed, so
 * the parsed message lives as long as update, as before. */
void telegram_parse_update_with(json_t *update, int64_t bot_user_id, unsigned flags,
                                struct parsed_update *out)
{
    struct pick_arena *arena = pick_arena_create();
    const struct pick_node *node = arena != NULL ? pick_from_json(update, arena) : NULL;
    if (update != NULL && node == NULL) {
        memset(out, 0, sizeof *out);
        out->update_id = -1;
        mark_bad(out, "out of memory reading the update");
    } else {
        telegram_parse_update_node(node, bot_user_id, flags, out);
    }
    pick_arena_destroy(arena);
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
static json_t *read_element(const char *body, size_t length, size_t offset, int depth, size_t *end)
{
    char why[96];
    size_t used = 0;
    json_t *element =
        json_pick(body + offset, length - offset, &update_rule, depth, &used, why, sizeof why);
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

/* The elements from the array whose '[' is at body[offset] up to its ']'
 * (stray commas skipped), each picked or an undecodable marker. NULL when
 * the array does not end. */
static json_t *read_elements(const char *body, size_t length, size_t offset)
{
    json_t *updates = json_array();
    offset++;
    while (updates != NULL) {
        while (offset < length && (is_json_space(body[offset]) || body[offset] == ','))
            offset++;
        if (offset >= length)
            break;
        if (body[offset] == ']')
            return updates;
        size_t end;
        /* an element sits in the envelope object and its array */
        json_t *element = read_element(body, length, offset, 2, &end);
        if (element == NULL || json_array_append_new(updates, element) != 0)
            break;
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
    return read_elements(body, length, (size_t)(array - body));
}

/* The elements of the array whose '[' is at body[offset], as nodes, with
 * exactly one comma between each two; *close is where its ']' is. NULL
 * when it does not end so, or an element does not decode. */
static struct pick_node *read_node_elements(const char *body, size_t length, size_t offset,
                                            struct pick_arena *arena, size_t *close)
{
    struct pick_node *array = pick_arena_alloc(arena, sizeof *array);
    if (array == NULL)
        return NULL;
    memset(array, 0, sizeof *array);
    array->type = PICK_ARRAY;
    struct pick_node **tail = &array->first;
    offset++;
    for (int first = 1;; first = 0) {
        size_t commas = 0;
        while (offset < length && (is_json_space(body[offset]) || body[offset] == ',')) {
            commas += body[offset] == ',';
            offset++;
        }
        if (offset >= length)
            return NULL;
        if (body[offset] == ']') {
            if (commas > 0)
                return NULL;
            *close = offset;
            return array;
        }
        if (commas != (first ? 0u : 1u))
            return NULL;
        size_t used = 0;
        char why[96];
        /* an element sits in the envelope object and its array */
        const struct pick_node *element = json_pick_nodes(
            body + offset, length - offset, &update_rule, 2, &used, arena, why, sizeof why);
        if (element == NULL)
            return NULL; /* the full path reads it update by update */
        *tail = (struct pick_node *)element;
        tail = &(*tail)->next;
        offset += used;
    }
}

const struct pick_node *telegram_read_updates(const char *body, size_t length,
                                              struct pick_arena *arena)
{
    static const char head[] = "{\"ok\":true,\"result\":[";
    if (body == NULL || arena == NULL || length < sizeof head - 1 ||
        memcmp(body, head, sizeof head - 1) != 0)
        return NULL;
    size_t close = 0;
    struct pick_node *updates = read_node_elements(body, length, sizeof head - 2, arena, &close);
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
    return closed ? updates : NULL;
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
    json_t *update = read_element(body, end, start, 0, &used);
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
