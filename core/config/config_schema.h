/* The [bot], [lock] and [plugins] keys as one table: name, type, range,
 * default and the struct config field each fills. config.c parses with it,
 * the defaults come from it, `jarvis check -v` prints it and docs/config.md's
 * key tables are generated from it (a unit test fails when they differ). */
#ifndef JARVIS_CONFIG_SCHEMA_H
#define JARVIS_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;

enum config_type {
    CONFIG_TEXT,      /* any text, may be empty */
    CONFIG_PATH,      /* a file or directory; relative = relative to the config file */
    CONFIG_PATH_LIST, /* directories separated by ':' */
    CONFIG_URL,       /* http:// or https://, trailing '/' removed */
    CONFIG_INTEGER,   /* minimum..maximum */
    CONFIG_NUMBER,    /* above 0, at most maximum */
    CONFIG_BOOLEAN,
    CONFIG_CHOICE,    /* one of choices; the field gets its index */
    CONFIG_ID_LIST,   /* positive integers (Telegram user ids) */
    CONFIG_NAME_LIST, /* plugin names, each once */
};

#define CONFIG_SECRET 1u   /* registered with the log's redaction, never printed */
#define CONFIG_NONEMPTY 2u /* an empty value is an error */

struct config_key {
    const char *section;
    const char *name;
    enum config_type type;
    unsigned flags;
    long long minimum;          /* CONFIG_INTEGER */
    long long maximum;          /* CONFIG_INTEGER, CONFIG_NUMBER */
    const char *const *choices; /* CONFIG_CHOICE, NULL-terminated */
    const char *default_value;  /* parsed like a value from the file */
    size_t offset;              /* of the field in struct config */
    size_t size;                /* of that field (int or int64_t for integers) */
    size_t count_offset;        /* lists: the size_t element count */
    const char *meaning;        /* one paragraph for docs/config.md */
};

/* Every key, in documentation order; ends with an entry whose name is NULL. */
extern const struct config_key config_keys[];

const struct config_key *config_schema_find(const char *section, const char *name);
int config_schema_is_section(const char *name);
/* The known key of section nearest to an unknown name (edit distance at
 * most 2, or a third of its length), or NULL: for "did you mean". */
const char *config_schema_suggest(const char *section, const char *name);

/* Parses text into the key's field. 0, or -1 with why in problem (the value
 * quoted and redacted, no "FILE:LINE: " prefix). */
int config_schema_set(struct config *config, const struct config_key *key, const char *text,
                      char *problem, size_t problem_size);
/* Every field at its default. */
void config_schema_set_defaults(struct config *config);
/* The field's current value as text (secrets as "***" when set). */
void config_schema_format(const struct config *config, const struct config_key *key, char *out,
                          size_t size);
/* "integer 1..64", "boolean", ...: the type and range for docs and check. */
void config_schema_describe(const struct config_key *key, char *out, size_t size);
/* The docs/config.md tables of the three sections, Markdown. */
void config_schema_write_markdown(FILE *out);

/* value cut to fit an error message, secrets masked, control bytes as spaces */
#define CONFIG_QUOTE_MAX 64
const char *config_quote(const char *value, char *buffer, size_t size);
/* strdup that aborts when memory runs out (a config cannot be half-built) */
char *config_copy_text(const char *text);

/* bot, lock, metrics, plugins (the reserved sections) and core (the core's store
 * namespace): names no plugin may have. */
int config_is_reserved_name(const char *name);
/* true/yes/on/1 and false/no/off/0, any case: 0 and *result, or -1. The one
 * reading of a boolean, for [bot] keys and plugin sections alike. */
int config_parse_boolean(const char *text, int *result);

/* [bot] shutdown_grace_ms, or the schema's default when config is NULL or
 * has none: the one place that default lives. */
int64_t config_shutdown_grace_ms(const struct config *config);

#endif
