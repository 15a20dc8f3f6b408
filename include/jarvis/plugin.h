/* jarvis plugin ABI, version 1: the one header a plugin includes.
 * A plugin is a .so exporting one descriptor (JV_PLUGIN_DEFINE); at init it
 * receives the host API table below and registers commands, handlers, jobs.
 *
 * OWNERSHIP RULES (they are the contract; read them before writing a plugin)
 * 1. Host -> plugin arguments are borrowed. Strings, jv_message and config
 *    values are valid only until the callback returns (config values: until
 *    unload). Copy what you keep.
 * 2. Plugin -> host arguments are copied before the call returns: specs, names,
 *    help text, reply text, KV values. Exceptions: function pointers,
 *    user_data and service vtables must stay valid until the plugin unloads.
 * 3. user_data belongs to the plugin. If free_user_data is set, the host calls
 *    it exactly once when the registration goes away (failed init or unload).
 * 4. What the host allocates for you (strdup, kv_get, http_request bodies) is
 *    freed only with api->free (or api->http_response_free). Never mix with
 *    libc free.
 * 5. Service calls follow the contract in the service header: inputs
 *    borrowed, outputs in caller-provided buffers; nothing allocated across.
 * 6. Unload: the host stops dispatching to the plugin, waits for its running
 *    callbacks, calls shutdown, then runs the free_user_data destructors. The
 *    .so stays mapped until the process exits. A reload (SIGHUP) may unload a
 *    plugin and run init again in the same image: set state up in init, not
 *    by static initialisers. It restarts the consumers of a provider it
 *    restarts, so keep acquired vtables only in state init resets
 *    (docs/reload.md).
 *
 * THREADING
 * Handlers run on the host's worker pool. By default a plugin is serialised:
 * the host never runs two of its callbacks at once. A plugin that guards its
 * own state sets JV_PLUGIN_CONCURRENT and may be entered from several workers
 * at once. Every host API function is thread-safe. Service functions a plugin
 * provides are called on the consumer's thread and must be thread-safe.
 * Handlers may block on I/O (that is what the pool is for), but the host logs
 * any callback that overruns [bot] handler_budget_ms.
 *
 * VERSIONING
 * Minor bump: members appended at the end of a struct, or a new struct.
 * Major bump: anything removed, reordered, retyped, or a changed meaning.
 * The host refuses a plugin whose major differs or whose minor is newer.
 * A plugin may test for newer host members with JV_API_HAS.
 */
#ifndef JARVIS_PLUGIN_H
#define JARVIS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JV_PLUGIN_MAGIC 0x4C50564Au /* "JVPL" read as a little-endian u32 */
#define JV_ABI_MAJOR 1
#define JV_ABI_MINOR 3

#define JV_EXPORT __attribute__((visibility("default")))

/* return codes: JV_OK or a negative JV_E_* */
#define JV_OK 0
#define JV_E_INVAL -1    /* bad argument */
#define JV_E_NOMEM -2    /* out of memory */
#define JV_E_EXISTS -3   /* name already taken */
#define JV_E_NOTFOUND -4 /* no such key, service, command */
#define JV_E_STATE -5    /* not allowed now (e.g. registering after init) */
#define JV_E_ABI -6      /* version or struct size mismatch */
#define JV_E_INTERNAL -7 /* host-side failure (details in the log) */
#define JV_E_IO -8       /* storage or network failure */
#define JV_E_TIMEOUT -9  /* the operation ran out of time */

/* message handler results */
#define JV_CONTINUE 0 /* let lower-priority handlers see the message */
#define JV_HANDLED 1  /* stop here */

/* log levels */
#define JV_LOG_ERROR 0
#define JV_LOG_WARN 1
#define JV_LOG_INFO 2
#define JV_LOG_DEBUG 3

/* descriptor flags */
#define JV_PLUGIN_CONCURRENT 0x1u /* callbacks may run concurrently */

/* command flags */
#define JV_COMMAND_ADMIN 0x1u /* only [bot] admins may run it */
/* since 1.3: in a group, only the group's admins (Telegram's creator and
 * administrators) and [bot] admins may run it; private chats are unaffected.
 * For commands that act for the whole chat, such as a subscription. */
#define JV_COMMAND_GROUP_ADMIN 0x2u

typedef struct jv_plugin jv_plugin;     /* opaque: the host's record of a plugin */
typedef struct jv_context jv_context;   /* opaque: the host's record of one update being handled */
typedef struct jv_deferred jv_deferred; /* opaque: an update held open by defer_reply */
typedef struct jv_host_api jv_host_api;

/* One incoming chat message, borrowed for the duration of the callback. */
typedef struct jv_message {
    size_t struct_size;
    int64_t update_id; /* transport's id of the update (console: line number) */
    int64_t chat_id;
    int64_t user_id;
    int64_t message_id;
    const char *chat_type; /* "private", "group", "supergroup", "channel" */
    const char *user_name; /* username or first name; "" when unknown */
    const char *text;      /* the whole text, UTF-8 */
    /* Set for commands only (NULL / 0 for free text): */
    const char *command;     /* lower-case, without '/' and '@botname' */
    const char *args;        /* text after the command, trimmed; "" if none */
    int argc;                /* args split on whitespace */
    const char *const *argv; /* argv[argc] == NULL */
    /* Addressing, for plugins that answer plain questions: */
    int is_private;      /* a one-to-one chat with the bot */
    int mentions_bot;    /* the text mentions @botname */
    int is_reply_to_bot; /* a reply to one of the bot's messages */
    /* since 1.1: what reply() needs to route an answer (its update, chat and
     * forum topic). Owned by the host, valid until the callback returns;
     * pass the jv_message you were given, never a copy of it. */
    jv_context *context;
    /* since 1.2 (check struct_size before reading): */
    const char *language_code; /* the sender's IETF language tag; "" when unknown */
    const char *reply_to_text; /* text or caption of the message this one replies to; "" */
    int is_edited;             /* an edited message, handled again ([bot] edited_messages) */
    /* A button press (callback handlers only, NULL otherwise): the data of the
     * pressed button. message_id and text are those of the message the
     * button is on; user_id and user_name are the presser's. */
    const char *callback_data;
} jv_message;

typedef int (*jv_command_fn)(jv_plugin *self, const jv_message *message, void *user_data);
/* Returns JV_CONTINUE, JV_HANDLED, or a negative JV_E_* (logged, treated as CONTINUE). */
typedef int (*jv_message_fn)(jv_plugin *self, const jv_message *message, void *user_data);
typedef int (*jv_job_fn)(jv_plugin *self, void *user_data);
typedef void (*jv_free_fn)(void *user_data);

typedef struct jv_command_spec {
    size_t struct_size;
    const char *name;  /* [a-z0-9_]{1,32}, without the slash */
    const char *usage; /* e.g. "/echo <text>" */
    const char *help;  /* one line, shown by /help */
    uint32_t flags;    /* JV_COMMAND_* */
    jv_command_fn handler;
    void *user_data;
    jv_free_fn free_user_data; /* optional */
} jv_command_spec;

typedef struct jv_message_handler_spec {
    size_t struct_size;
    int priority; /* higher runs first; equal priorities run in load order */
    jv_message_fn handler;
    void *user_data;
    jv_free_fn free_user_data; /* optional */
} jv_message_handler_spec;

typedef struct jv_job_spec {
    size_t struct_size;
    const char *name;         /* unique within the plugin, for logs */
    int64_t interval_ms;      /* > 0 */
    int64_t initial_delay_ms; /* 0: first run after one interval */
    jv_job_fn run;
    void *user_data;
    jv_free_fn free_user_data; /* optional */
} jv_job_spec;

/* HTTP through the host's libcurl. Headers are "Name: value" strings. */
typedef struct jv_http_request {
    size_t struct_size;
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* NULL-terminated, or NULL */
    const char *body;           /* POST body or NULL */
    size_t body_length;
    int64_t timeout_ms; /* whole request; 0: host default (15 s) */
} jv_http_request;

typedef struct jv_http_response {
    size_t struct_size;
    long status; /* HTTP status; 0 when no response arrived */
    char *body;  /* NUL-terminated; free with http_response_free */
    size_t body_length;
    int64_t retry_after_s; /* Retry-After header in seconds, -1 if absent */
    char error[256];       /* transport error, secrets and query strings removed */
} jv_http_response;

/* since 1.2: rich messages (include <jarvis/format.h> for jv_html_escape). */

/* jv_outgoing flags */
#define JV_FORMAT_HTML 0x1u  /* text/caption is Telegram HTML (escape user text!) */
#define JV_LINK_PREVIEW 0x2u /* show a link preview (off by default for bot answers) */
#define JV_NO_QUOTE 0x4u     /* in groups, do not quote the question */

/* file kinds */
#define JV_FILE_NONE 0
#define JV_FILE_PHOTO 1    /* sendPhoto: PNG/JPEG bytes, at most 10 MB */
#define JV_FILE_DOCUMENT 2 /* sendDocument: any bytes, at most 50 MB */

/* Telegram's limit for a button's callback_data, in bytes. */
#define JV_CALLBACK_DATA_MAX 64

/* One inline-keyboard button: exactly one of callback_data / url. This
 * layout is frozen (it is used in arrays): a richer button is a new struct. */
typedef struct jv_button {
    const char *text;
    const char *callback_data; /* at most JV_CALLBACK_DATA_MAX bytes, starting with a
                                  prefix the plugin registered with register_callback */
    const char *url;           /* http(s) or tg:// link */
    int new_row;               /* this button starts a new row of the keyboard */
} jv_button;

/* What to send or edit; everything borrowed and copied before the call returns. */
typedef struct jv_outgoing {
    size_t struct_size;
    const char *text;         /* message text, or a file's caption (may be NULL then) */
    uint32_t flags;           /* JV_FORMAT_HTML, JV_LINK_PREVIEW, JV_NO_QUOTE */
    const jv_button *buttons; /* an inline keyboard under the message, or NULL */
    size_t button_count;
    int file_kind;    /* JV_FILE_* */
    const void *file; /* the file's bytes */
    size_t file_length;
    const char *file_name; /* e.g. "chart.png" */
} jv_outgoing;

/* A press on a button whose callback_data starts with prefix. The handler
 * answers with answer_callback (a toast, or an alert); if it does not, the
 * host answers with nothing, so the user's spinner always stops. Return
 * JV_OK, or JV_E_NOTFOUND for data it no longer knows (the user sees
 * "this button has expired"). */
typedef struct jv_callback_spec {
    size_t struct_size;
    const char *prefix; /* [a-z0-9_]{1,32} then ':' is added by no one: data must
                            start with exactly these bytes; unique across plugins,
                            and no prefix may start another */
    uint32_t flags;     /* JV_COMMAND_ADMIN: only [bot] admins may press;
                            since 1.3 JV_COMMAND_GROUP_ADMIN: in a group, its admins */
    jv_command_fn handler;
    void *user_data;
    jv_free_fn free_user_data; /* optional */
} jv_callback_spec;

/* Called for each key by kv_list; return non-zero to stop early. */
typedef int (*jv_kv_visit_fn)(const char *key, const void *value, size_t value_length,
                              void *user_data);

/* The host API table. APPEND ONLY: new members go at the end with a
 * "since 1.N" comment and a JV_ABI_MINOR bump. Never reorder. */
struct jv_host_api {
    size_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* since 1.0: memory */
    void *(*alloc)(size_t size);
    void (*free)(void *pointer);
    char *(*strdup)(const char *text);
    const char *(*strerror)(int code);

    /* since 1.0: logging (printf format; the host adds time, level, plugin) */
    void (*log)(jv_plugin *self, int level, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

    /* since 1.0: the plugin's own plugins.ini section; env:VAR already resolved.
     * A value that does not parse is logged (section, key) and the default used. */
    const char *(*config_get)(jv_plugin *self, const char *key, const char *fallback);
    int64_t (*config_get_int)(jv_plugin *self, const char *key, int64_t fallback);
    double (*config_get_double)(jv_plugin *self, const char *key, double fallback);
    int (*config_get_bool)(jv_plugin *self, const char *key, int fallback);

    /* since 1.0: registration, allowed only inside init and post_init
     * (JV_E_STATE otherwise). Returns JV_OK or a negative JV_E_*. */
    int (*register_command)(jv_plugin *self, const jv_command_spec *spec, size_t spec_size);
    int (*register_message_handler)(jv_plugin *self, const jv_message_handler_spec *spec,
                                    size_t spec_size);
    int (*register_job)(jv_plugin *self, const jv_job_spec *spec, size_t spec_size);

    /* since 1.0: named services. The vtable is a struct described by the
     * service's header, starting with its own size_t struct_size. One provider
     * per name. acquire returns NULL when absent or older than min_version:
     * consumers must cope. Acquire in post_init or lazily, never rely on order. */
    int (*provide_service)(jv_plugin *self, const char *name, uint32_t version, const void *vtable);
    const void *(*acquire_service)(jv_plugin *self, const char *name, uint32_t min_version);
    void (*release_service)(jv_plugin *self, const char *name);

    /* since 1.0: messaging. Text is copied; long texts are split by the host.
     * reply() answers the message being handled, in its chat and topic. Its
     * replies, and the kv writes made on the handler's thread, are committed
     * together with the mark "this update is handled" when the handler
     * returns: a crash before that rolls them back and the update is handled
     * again; after it the replies are sent even across a restart.
     * send_message() holds nothing: the text is committed to the outbox at
     * once and sent (from any thread, any time: jobs, reports). */
    int (*reply)(const jv_message *message, const char *text);
    int (*send_message)(jv_plugin *self, int64_t chat_id, const char *text);

    /* since 1.0: persistent key-value store, namespaced per plugin. Inside a
     * handler, on its thread, writes become durable with the update's commit
     * (and reads see them at once); elsewhere (jobs, a plugin's own threads)
     * each write is committed before the call returns. kv_get allocates
     * *value (NUL-terminated beyond value_length); free it with api->free. */
    int (*kv_set)(jv_plugin *self, const char *key, const void *value, size_t value_length);
    int (*kv_get)(jv_plugin *self, const char *key, char **value, size_t *value_length);
    int (*kv_delete)(jv_plugin *self, const char *key);
    /* Keys with the prefix, in byte order; values borrowed for the visit. */
    int (*kv_list)(jv_plugin *self, const char *prefix, jv_kv_visit_fn visit, void *user_data);

    /* since 1.0: HTTP. Returns JV_OK when a response arrived (any status),
     * JV_E_TIMEOUT / JV_E_IO otherwise (details in response->error). */
    int (*http_request)(jv_plugin *self, const jv_http_request *request,
                        jv_http_response *response);
    void (*http_response_free)(jv_http_response *response);

    /* since 1.0: wall-clock time in milliseconds since the epoch */
    int64_t (*now_ms)(void);

    /* since 1.1: answering later, from any thread. Called inside a handler,
     * defer_reply holds the update open: it is not marked handled when the
     * handler returns, and the chat's next messages are handled meanwhile.
     * deferred_reply answers it (as reply would; texts are kept until the
     * finish) and deferred_finish commits those answers with the handled
     * mark and frees the handle, which must not be used after. Should the
     * process die before the finish, the update is handled again after the
     * restart (the handler runs again, and may defer again): nothing is lost,
     * and nothing of a deferred answer is sent twice. kv writes made by the
     * handler before it returned are committed when it returns. A handle
     * never finished is freed at unload, its update left for the restart.
     * defer_reply returns NULL outside a handler or when out of memory. */
    jv_deferred *(*defer_reply)(const jv_message *message);
    int (*deferred_reply)(jv_deferred *deferred, const char *text);
    int (*deferred_finish)(jv_deferred *deferred);

    /* since 1.2: rich messages. Sends are asynchronous (from the outbox), so
     * what comes back in *reference (may be NULL: then the host keeps no
     * reference for it) is the host's reference of
     * the message, a number above 2^32; the host learns Telegram's
     * message_id once it is sent. edit_message takes a reference or a
     * Telegram message_id (a button press carries the latter). A chat's
     * messages go out in order, so an edit queued after its message goes
     * out after it. reply_with answers like reply (same commit); in groups
     * it quotes the question unless JV_NO_QUOTE or [bot] reply_quotes =
     * false. Returns JV_OK, JV_E_INVAL (bad buttons: callback_data longer
     * than 64 bytes, no text; a file too big), JV_E_STATE as reply. */
    int (*reply_with)(const jv_message *message, const jv_outgoing *content, int64_t *reference);
    int (*send_with)(jv_plugin *self, int64_t chat_id, const jv_outgoing *content,
                     int64_t *reference);
    /* content->text NULL: only the keyboard changes (editMessageReplyMarkup).
     * Inside a handler, on its thread, the edit commits with the handling.
     * "message is not modified" is no error. */
    int (*edit_message)(jv_plugin *self, int64_t chat_id, int64_t message,
                        const jv_outgoing *content);
    int (*register_callback)(jv_plugin *self, const jv_callback_spec *spec, size_t spec_size);
    /* Inside a callback handler: the toast (or alert when show_alert) the
     * presser sees; text may be NULL or "". Once per press. */
    int (*answer_callback)(const jv_message *press, const char *text, int show_alert);
};

/* Registration that states a spec's size once (as OBS's obs_register_source
 * does): JV_REGISTER_COMMAND(api, self, &spec). The spec's struct_size, when
 * set, must be the same size (the host refuses a mismatch with JV_E_ABI). */
#define JV_REGISTER_COMMAND(api, self, spec) (api)->register_command((self), (spec), sizeof *(spec))
#define JV_REGISTER_MESSAGE_HANDLER(api, self, spec)                                               \
    (api)->register_message_handler((self), (spec), sizeof *(spec))
#define JV_REGISTER_JOB(api, self, spec) (api)->register_job((self), (spec), sizeof *(spec))
#define JV_REGISTER_CALLBACK(api, self, spec)                                                      \
    (api)->register_callback((self), (spec), sizeof *(spec))

#define JV_API_HAS(api, member)                                                                    \
    ((api)->struct_size >= offsetof(jv_host_api, member) + sizeof((api)->member))
/* The same test for any struct that starts with struct_size, e.g. a service
 * vtable: JV_STRUCT_HAS(weight, jv_sentiment_weight_api, combine2). */
#define JV_STRUCT_HAS(pointer, type, member)                                                       \
    ((pointer)->struct_size >= offsetof(type, member) + sizeof((pointer)->member))

/* The descriptor. The first four members are frozen for every major. */
typedef struct jv_plugin_info {
    uint32_t magic;       /* JV_PLUGIN_MAGIC */
    uint16_t abi_major;   /* JV_ABI_MAJOR the plugin was built against */
    uint16_t abi_minor;   /* JV_ABI_MINOR the plugin was built against */
    uint32_t struct_size; /* sizeof(jv_plugin_info) */
    uint32_t flags;       /* JV_PLUGIN_* */
    const char *name;     /* [a-z0-9_]{1,32}; also its plugins.ini section */
    const char *version;
    const char *description;
    /* Required. Register things here. On failure write a one-line reason
     * into err and return a negative JV_E_*; the host undoes the
     * registrations and carries on without the plugin. */
    int (*init)(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length);
    /* Optional: runs once every plugin is loaded; acquire services here. */
    int (*post_init)(jv_plugin *self);
    /* Optional: join your threads, release services, free state. */
    void (*shutdown)(jv_plugin *self);
} jv_plugin_info;

#define JV_PLUGIN_DESCRIPTOR_SYMBOL "jv_plugin_descriptor"

/* Declares the exported descriptor so its boilerplate cannot drift. */
#define JV_PLUGIN_DEFINE(name_, version_, description_, flags_, init_, post_init_, shutdown_)      \
    JV_EXPORT const jv_plugin_info                                                                 \
        jv_plugin_descriptor = {                                                                   \
            JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(jv_plugin_info),                   \
            (flags_),        (name_),      (version_),   (description_),                           \
            (init_),         (post_init_), (shutdown_)}

#ifdef __cplusplus
}
#endif

#endif /* JARVIS_PLUGIN_H */
