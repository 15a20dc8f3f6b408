/* A strict JSON reader building only the objects a rule names (see
 * json_pick.h). The checks are jansson's: RFC 8259 grammar, valid UTF-8,
 * no \u0000, no lone surrogate escape, integers within int64, reals that
 * do not overflow, nesting up to JSON_PICK_MAX_DEPTH. */
#include "base/json_pick.h"

#include "base/pick_tree.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const unsigned char *text;
    size_t length;
    size_t at;
    char *error;
    size_t error_size;
    /* NULL: values are jansson's (json_t *); else pick_node's in it */
    struct pick_arena *arena;
};

/* Short strings and keys are decoded here, longer ones in a malloc'd copy. */
#define STACK_TEXT 256

/* Beyond this many digits before the point a real can overflow a double. */
#define SAFE_REAL_DIGITS 300

static int fail(struct reader *reader, const char *what)
{
    if (reader->error_size > 0)
        snprintf(reader->error, reader->error_size, "%s at byte %zu", what, reader->at);
    return -1;
}

/* The byte at the cursor, or -1 at the end. */
static int peek(const struct reader *reader)
{
    return reader->at < reader->length ? reader->text[reader->at] : -1;
}

static void skip_space(struct reader *reader)
{
    while (reader->at < reader->length) {
        unsigned char c = reader->text[reader->at];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return;
        reader->at++;
    }
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Length of the valid UTF-8 sequence at s (its lead byte >= 0x80), 0 when
 * it is not one (overlong, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_sequence(const unsigned char *s, size_t available)
{
    size_t count;
    uint32_t point, least;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        count = 2, point = s[0] & 0x1Fu, least = 0x80;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        count = 3, point = s[0] & 0x0Fu, least = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        count = 4, point = s[0] & 0x07u, least = 0x10000;
    else
        return 0;
    if (available < count)
        return 0;
    for (size_t i = 1; i < count; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        point = point << 6 | (s[i] & 0x3Fu);
    }
    if (point < least || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF))
        return 0;
    return count;
}

/* The four hex digits at s as a number, or -1. */
static long hex4(const unsigned char *s, size_t available)
{
    if (available < 4)
        return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i], digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* 1 for the bytes a string holds as they are (printable ASCII but '"' and
 * '\\'): one lookup a byte in the loop every string and skipped member
 * runs through, where five comparisons were. */
static const unsigned char plain_string_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
    /* 0x80-0xFF: the lead and continuation bytes of UTF-8, checked apart */
};

/* Checks the string whose '"' is at the cursor and moves past its closing
 * quote; its bytes are text[*start, *start + *raw_length), *escaped set
 * when they hold escapes (then decode_string gives its value). */
static int scan_string(struct reader *reader, size_t *start, size_t *raw_length, int *escaped)
{
    const unsigned char *s = reader->text;
    size_t i = reader->at + 1, n = reader->length;
    *start = i;
    *escaped = 0;
    for (;;) {
        while (i < n && plain_string_byte[s[i]])
            i++;
        reader->at = i;
        if (i >= n)
            return fail(reader, "unterminated string");
        if (s[i] == '"')
            break;
        if (s[i] < 0x20)
            return fail(reader, "control character in a string");
        if (s[i] >= 0x80) {
            size_t sequence = utf8_sequence(s + i, n - i);
            if (sequence == 0)
                return fail(reader, "invalid UTF-8");
            i += sequence;
            continue;
        }
        /* a backslash */
        *escaped = 1;
        int kind = i + 1 < n ? s[i + 1] : -1;
        if (kind != 'u') {
            if (kind <= 0 || strchr("\"\\/bfnrt", kind) == NULL) /* strchr finds a NUL */
                return fail(reader, "invalid escape");
            i += 2;
            continue;
        }
        long unit = hex4(s + i + 2, n - (i + 2));
        if (unit < 0)
            return fail(reader, "invalid \\u escape");
        if (unit == 0)
            return fail(reader, "\\u0000 is not allowed");
        if (unit >= 0xDC00 && unit <= 0xDFFF)
            return fail(reader, "lone low surrogate escape");
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            long low = i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u'
                           ? hex4(s + i + 8, n - (i + 8))
                           : -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(reader, "lone high surrogate escape");
            i += 12;
        } else {
            i += 6;
        }
    }
    *raw_length = i - *start;
    reader->at = i + 1;
    return 0;
}

static size_t put_utf8(uint32_t point, char *out)
{
    if (point < 0x80) {
        out[0] = (char)point;
        return 1;
    }
    if (point < 0x800) {
        out[0] = (char)(0xC0 | point >> 6);
        out[1] = (char)(0x80 | (point & 0x3F));
        return 2;
    }
    if (point < 0x10000) {
        out[0] = (char)(0xE0 | point >> 12);
        out[1] = (char)(0x80 | (point >> 6 & 0x3F));
        out[2] = (char)(0x80 | (point & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | point >> 18);
    out[1] = (char)(0x80 | (point >> 12 & 0x3F));
    out[2] = (char)(0x80 | (point >> 6 & 0x3F));
    out[3] = (char)(0x80 | (point & 0x3F));
    return 4;
}

/* The value of a string scan_string checked; out holds at least length
 * bytes (a decoded string is never longer than its escaped form). */
static size_t decode_string(const unsigned char *raw, size_t length, char *out)
{
    size_t written = 0;
    for (size_t i = 0; i < length;) {
        const unsigned char *backslash = memchr(raw + i, '\\', length - i);
        size_t plain = backslash ? (size_t)(backslash - raw) - i : length - i;
        memcpy(out + written, raw + i, plain);
        written += plain;
        i += plain;
        if (i >= length)
            break;
        unsigned char kind = raw[i + 1];
        i += 2;
        switch (kind) {
            case 'b': out[written++] = '\b'; break;
            case 'f': out[written++] = '\f'; break;
            case 'n': out[written++] = '\n'; break;
            case 'r': out[written++] = '\r'; break;
            case 't': out[written++] = '\t'; break;
            case 'u': {
                uint32_t point = (uint32_t)hex4(raw + i, 4);
                i += 4;
                if (point >= 0xD800 && point <= 0xDBFF) {
                    uint32_t low = (uint32_t)hex4(raw + i + 2, 4);
                    point = 0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                written += put_utf8(point, out + written);
                break;
            }
            default: out[written++] = (char)kind; /* '"', '\\', '/' */
        }
    }
    return written;
}

/* ---- building: a jansson value, or a node in the reader's arena ---- */

static struct pick_node *new_node(struct reader *reader, enum pick_type type)
{
    struct pick_node *node = pick_arena_alloc(reader->arena, sizeof *node);
    if (node != NULL) {
        memset(node, 0, sizeof *node);
        node->type = type;
    }
    return node;
}

/* A copy of text in the arena with a NUL after it. */
static char *arena_text(struct reader *reader, const char *text, size_t length)
{
    char *copy = pick_arena_alloc(reader->arena, length + 1);
    if (copy != NULL) {
        memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

static void *new_integer(struct reader *reader, int64_t number)
{
    if (reader->arena == NULL)
        return json_integer(number);
    struct pick_node *node = new_node(reader, PICK_INTEGER);
    if (node != NULL)
        node->integer = number;
    return node;
}

static void *new_real(struct reader *reader, double number)
{
    if (reader->arena == NULL)
        return json_real(number);
    struct pick_node *node = new_node(reader, PICK_REAL);
    if (node != NULL)
        node->real = number;
    return node;
}

/* 0 true, 1 false, 2 null */
static void *new_word(struct reader *reader, size_t word)
{
    if (reader->arena == NULL)
        return word == 0 ? json_true() : word == 1 ? json_false() : json_null();
    return new_node(reader, word == 0 ? PICK_TRUE : word == 1 ? PICK_FALSE : PICK_NULL);
}

static void *new_container(struct reader *reader, int object)
{
    if (reader->arena == NULL)
        return object ? json_object() : json_array();
    return new_node(reader, object ? PICK_OBJECT : PICK_ARRAY);
}

static void release(struct reader *reader, void *value)
{
    if (reader->arena == NULL)
        json_decref(value); /* an arena's nodes go with the arena */
}

static void *text_value(struct reader *reader, const char *text, size_t length)
{
    if (reader->arena == NULL)
        return json_stringn_nocheck(text, length);
    struct pick_node *node = new_node(reader, PICK_STRING);
    if (node == NULL || (node->text = arena_text(reader, text, length)) == NULL)
        return NULL;
    node->length = length;
    return node;
}

static void *string_value(struct reader *reader, const unsigned char *raw, size_t length,
                          int escaped)
{
    if (!escaped)
        return text_value(reader, (const char *)raw, length);
    char small[STACK_TEXT];
    char *buffer = length <= sizeof small ? small : malloc(length);
    if (buffer == NULL)
        return NULL;
    void *value = text_value(reader, buffer, decode_string(raw, length, buffer));
    if (buffer != small)
        free(buffer);
    return value;
}

/* Adds name: value to object (value's reference taken). In an arena the
 * members are pushed in front and put in order when the object ends. */
static int object_add(struct reader *reader, void *object, const char *name, size_t length,
                      void *value)
{
    if (reader->arena == NULL)
        return json_object_setn_new_nocheck(object, name, length, value);
    struct pick_node *member = value;
    if ((member->name = arena_text(reader, name, length)) == NULL)
        return -1;
    member->name_length = length;
    struct pick_node *parent = object;
    member->next = parent->first;
    parent->first = member;
    return 0;
}

static void object_end(struct reader *reader, void *object)
{
    if (reader->arena == NULL)
        return;
    struct pick_node *parent = object, *reversed = NULL;
    for (struct pick_node *member = parent->first, *next; member != NULL; member = next) {
        next = member->next;
        member->next = reversed;
        reversed = member;
    }
    parent->first = reversed;
}

/* Checks the number at the cursor and moves past it; *value (when value is
 * not NULL) gets it as jansson would: an integer without '.' or exponent,
 * else a real. */
static int scan_number(struct reader *reader, void **value)
{
    const unsigned char *s = reader->text;
    size_t i = reader->at, n = reader->length, begin = i;
    int negative = i < n && s[i] == '-';
    if (negative)
        i++;
    if (i >= n || !is_digit(s[i]))
        return fail(reader, "invalid number");
    size_t digits_start = i;
    if (s[i] == '0')
        i++;
    else
        while (i < n && is_digit(s[i]))
            i++;
    size_t whole_digits = i - digits_start;
    int real = 0, exponent = 0;
    if (i < n && s[i] == '.') {
        real = 1;
        if (++i >= n || !is_digit(s[i])) {
            reader->at = i;
            return fail(reader, "invalid number");
        }
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        real = exponent = 1;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i])) {
            reader->at = i;
            return fail(reader, "invalid number");
        }
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (!real) {
        int64_t number = 0;
        for (size_t d = digits_start; d < i; d++) {
            int digit = s[d] - '0';
            if (negative ? number < (INT64_MIN + digit) / 10 : number > (INT64_MAX - digit) / 10)
                return fail(reader, "integer beyond int64");
            number = negative ? number * 10 - digit : number * 10 + digit;
        }
        reader->at = i;
        if (value != NULL && (*value = new_integer(reader, number)) == NULL)
            return fail(reader, "out of memory");
        return 0;
    }
    if (exponent || whole_digits > SAFE_REAL_DIGITS || value != NULL) {
        char small[64];
        size_t size = i - begin + 1;
        char *copy = size <= sizeof small ? small : malloc(size);
        if (copy == NULL)
            return fail(reader, "out of memory");
        memcpy(copy, s + begin, size - 1);
        copy[size - 1] = '\0';
        errno = 0;
        double number = strtod(copy, NULL);
        int overflow = (number == HUGE_VAL || number == -HUGE_VAL) && errno == ERANGE;
        if (copy != small)
            free(copy);
        if (overflow)
            return fail(reader, "real number overflow");
        if (value != NULL && (*value = new_real(reader, number)) == NULL)
            return fail(reader, "out of memory");
    }
    reader->at = i;
    return 0;
}

/* true, false, null, a string or a number at the cursor; *value (when not
 * NULL) gets it. */
static int scan_scalar(struct reader *reader, void **value)
{
    static const char *const words[] = {"true", "false", "null"};
    int c = peek(reader);
    if (c == '"') {
        size_t start, length;
        int escaped;
        if (scan_string(reader, &start, &length, &escaped) != 0)
            return -1;
        if (value != NULL &&
            (*value = string_value(reader, reader->text + start, length, escaped)) == NULL)
            return fail(reader, "out of memory");
        return 0;
    }
    if (c == '-' || is_digit(c))
        return scan_number(reader, value);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t length = strlen(words[i]);
        if (reader->length - reader->at >= length &&
            memcmp(reader->text + reader->at, words[i], length) == 0) {
            reader->at += length;
            if (value != NULL && (*value = new_word(reader, i)) == NULL)
                return fail(reader, "out of memory");
            return 0;
        }
    }
    return fail(reader, c < 0 ? "unexpected end" : "unexpected character");
}

/* A member name and its ':' (the cursor at its '"'), left past the ':'. */
static int scan_name(struct reader *reader, size_t *start, size_t *length, int *escaped)
{
    if (peek(reader) != '"')
        return fail(reader, peek(reader) < 0 ? "unexpected end" : "expected a member name");
    if (scan_string(reader, start, length, escaped) != 0)
        return -1;
    skip_space(reader);
    if (peek(reader) != ':')
        return fail(reader, "expected ':'");
    reader->at++;
    return 0;
}

/* Checks one value without building it. depth: the levels it sits in.
 * Iterative, so deep nesting costs a byte a level, not a stack frame. */
static int skip_value(struct reader *reader, int depth)
{
    unsigned char open[JSON_PICK_MAX_DEPTH];
    int top = 0;
    size_t start, length;
    int escaped;
    for (;;) {
        skip_space(reader);
        int c = peek(reader);
        if (c == '{' || c == '[') {
            if (depth + top + 1 > JSON_PICK_MAX_DEPTH)
                return fail(reader, "nesting deeper than 2048 levels");
            open[top++] = (unsigned char)c;
            reader->at++;
            skip_space(reader);
            int close = c == '{' ? '}' : ']';
            if (peek(reader) == close) {
                reader->at++;
                top--;
            } else {
                if (c == '{' && scan_name(reader, &start, &length, &escaped) != 0)
                    return -1;
                continue; /* to the first member's value */
            }
        } else if (scan_scalar(reader, NULL) != 0) {
            return -1;
        }
        /* a value ended: close what ends with it, go on at the next ',' */
        for (;;) {
            if (top == 0)
                return 0;
            skip_space(reader);
            int close = open[top - 1] == '{' ? '}' : ']';
            c = peek(reader);
            if (c == close) {
                reader->at++;
                top--;
                continue;
            }
            if (c != ',')
                return fail(reader, c < 0 ? "unexpected end" : "expected ',' or a closing bracket");
            reader->at++;
            if (open[top - 1] == '{') {
                skip_space(reader);
                if (scan_name(reader, &start, &length, &escaped) != 0)
                    return -1;
            }
            break;
        }
    }
}

/* The index of name in the NULL-ended list, or -1. */
static long find_name(const char *const *list, const char *name, size_t length)
{
    /* the first byte first: most members are none of the list's */
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (length > 0 && list[i][0] == name[0] && strncmp(list[i], name, length) == 0 &&
            list[i][length] == '\0')
            return (long)i;
    return -1;
}

/* How a member is read: built by *child (an object the rule names), kept
 * (1), or left out (0). */
static int member_kind(const struct json_pick_rule *rule, const char *name, size_t length,
                       const struct json_pick_rule **child)
{
    *child = NULL;
    if (rule == NULL)
        return 1;
    long index = find_name(rule->names, name, length);
    if (index >= 0) {
        *child = rule->rules[index];
        return 1;
    }
    return rule->values == NULL || find_name(rule->values, name, length) >= 0;
}

static int add_member(struct reader *reader, void *object, const struct json_pick_rule *rule,
                      int depth);

/* The object at the cursor, built by rule; depth: its own level. */
static void *build_object(struct reader *reader, const struct json_pick_rule *rule, int depth)
{
    if (depth > JSON_PICK_MAX_DEPTH) {
        fail(reader, "nesting deeper than 2048 levels");
        return NULL;
    }
    void *object = new_container(reader, 1);
    if (object == NULL) {
        fail(reader, "out of memory");
        return NULL;
    }
    reader->at++;
    skip_space(reader);
    if (peek(reader) == '}') {
        reader->at++;
        return object;
    }
    for (;;) {
        if (add_member(reader, object, rule, depth) != 0)
            break;
        skip_space(reader);
        int c = peek(reader);
        reader->at++;
        if (c == '}') {
            object_end(reader, object);
            return object;
        }
        if (c != ',') {
            reader->at--;
            fail(reader, c < 0 ? "unexpected end" : "expected ',' or '}'");
            break;
        }
        skip_space(reader);
    }
    release(reader, object);
    return NULL;
}

/* One "name": value of an object being built. */
static int add_member(struct reader *reader, void *object, const struct json_pick_rule *rule,
                      int depth)
{
    size_t start, length;
    int escaped;
    if (scan_name(reader, &start, &length, &escaped) != 0)
        return -1;
    const char *name = (const char *)reader->text + start;
    char small[STACK_TEXT];
    char *decoded = NULL;
    if (escaped) {
        decoded = length <= sizeof small ? small : malloc(length);
        if (decoded == NULL)
            return fail(reader, "out of memory");
        length = decode_string(reader->text + start, length, decoded);
        name = decoded;
    }
    skip_space(reader);
    void *value = NULL;
    int c = peek(reader);
    const struct json_pick_rule *child;
    int kept = member_kind(rule, name, length, &child);
    int failed;
    if (child != NULL && c == '{')
        failed = (value = build_object(reader, child, depth + 1)) == NULL;
    else if (c == '{' || c == '[')
        failed = skip_value(reader, depth) != 0 || (kept && (value = new_word(reader, 2)) == NULL);
    else
        failed = scan_scalar(reader, kept ? &value : NULL) != 0;
    if (!failed && kept && object_add(reader, object, name, length, value) != 0)
        failed = fail(reader, "out of memory");
    if (decoded != NULL && decoded != small)
        free(decoded);
    return failed ? -1 : 0;
}

static void *pick(struct reader *reader, const struct json_pick_rule *rule, int depth_above,
                  size_t *end)
{
    if (reader->error_size > 0)
        reader->error[0] = '\0';
    skip_space(reader);
    void *value = NULL;
    int c = peek(reader);
    if (c == '{') {
        value = build_object(reader, rule, depth_above + 1);
    } else if (c == '[') {
        if (skip_value(reader, depth_above) == 0 && (value = new_container(reader, 0)) == NULL)
            fail(reader, "out of memory");
    } else if (scan_scalar(reader, &value) != 0) {
        value = NULL;
    }
    if (value != NULL && end != NULL)
        *end = reader->at;
    return value;
}

json_t *json_pick(const char *text, size_t length, const struct json_pick_rule *rule,
                  int depth_above, size_t *end, char *error, size_t error_size)
{
    struct reader reader = {(const unsigned char *)text, length, 0, error, error_size, NULL};
    return pick(&reader, rule, depth_above, end);
}

const struct pick_node *json_pick_nodes(const char *text, size_t length,
                                        const struct json_pick_rule *rule, int depth_above,
                                        size_t *end, struct pick_arena *arena, char *error,
                                        size_t error_size)
{
    if (arena == NULL)
        return NULL;
    struct reader reader = {(const unsigned char *)text, length, 0, error, error_size, arena};
    return pick(&reader, rule, depth_above, end);
}
