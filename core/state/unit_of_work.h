/* One update being handled: the replies its handlers gave and the kv writes
 * they made on the handler's thread, held in memory until the pipeline
 * commits them together with the update's handled mark (or drops them when
 * the process dies first). It is the jv_context a jv_message carries. */
#ifndef JARVIS_UNIT_OF_WORK_H
#define JARVIS_UNIT_OF_WORK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct store;

struct pending_write {
    char *space;
    char *key;
    char *value; /* NULL: a delete */
    size_t length;
};

/* One message to send (or edit, or a callback answer), all owned. A plain
 * reply has only chat, topic and text; the rest is zero. */
struct pending_reply {
    int64_t chat_id;
    int64_t thread_id;
    char *text;
    char *method;             /* NULL: sendMessage */
    uint32_t flags;           /* JV_FORMAT_HTML, JV_LINK_PREVIEW */
    int64_t quote_message_id; /* reply_parameters.message_id, 0: none */
    char *reply_markup;       /* JSON object text, or NULL */
    char *extra;              /* more JSON members ("a":1,"b":"c"), or NULL */
    void *file;
    size_t file_length;
    char *file_name;
    int64_t reference; /* the host reference given to the plugin, 0: none */
    int64_t target;    /* edits: the reference or message id edited */
};

void pending_reply_free(struct pending_reply *reply);

typedef void (*unit_of_work_done_fn)(struct jv_context *work, void *context);

struct jv_context {
    uint32_t magic;
    int64_t update_id;
    int64_t chat_id;
    int64_t thread_id;        /* forum topic replies go to, 0 for none */
    int64_t quote_message_id; /* groups: the question replies quote; 0 for none */
    char *callback_query_id;  /* a button press: the query the host must answer */
    int callback_answered;
    pthread_mutex_t lock; /* a handler may reply from threads it joins */
    struct pending_write *writes;
    size_t write_count, write_capacity;
    struct pending_reply *replies;
    size_t reply_count, reply_capacity;
    int deferred;                        /* defer_reply was called */
    struct jv_deferred *deferred_handle; /* the handle it returned */
    int failed;                          /* out of memory recording something: logged */
    unit_of_work_done_fn done;           /* how the pipeline commits it (also at deferred_finish) */
    void *done_context;
};

void unit_of_work_init(struct jv_context *work, int64_t update_id, int64_t chat_id,
                       int64_t thread_id);
void unit_of_work_release(struct jv_context *work);
/* The jv_context in message, or NULL when it carries none or a bad one. */
struct jv_context *unit_of_work_of(const jv_message *message);

/* Thread-safe. Copies text. JV_OK or JV_E_NOMEM. */
int unit_of_work_reply(struct jv_context *work, int64_t chat_id, int64_t thread_id,
                       const char *text);
/* Takes *reply (its members now belong to work; *reply is zeroed). */
int unit_of_work_add(struct jv_context *work, struct pending_reply *reply);
/* Moves the replies of from to the end of to (both locked by the caller's order). */
int unit_of_work_take_replies(struct jv_context *to, struct jv_context *from);

/* The unit of work the calling thread is handling, or NULL (jobs, plugin
 * threads): kv calls made on a handler's thread join its update's commit. */
struct jv_context *unit_of_work_current(void);
void unit_of_work_set_current(struct jv_context *work);

/* Buffered kv access with read-your-writes over the store. Same results as
 * the store_* functions (store.h). */
int unit_of_work_kv_set(struct jv_context *work, const char *space, const char *key,
                        const void *value, size_t length);
int unit_of_work_kv_delete(struct jv_context *work, struct store *store, const char *space,
                           const char *key);
int unit_of_work_kv_get(struct jv_context *work, struct store *store, const char *space,
                        const char *key, char **value, size_t *length);
int unit_of_work_kv_list(struct jv_context *work, struct store *store, const char *space,
                         const char *prefix,
                         int (*visit)(const char *key, const void *value, size_t length,
                                      void *user_data),
                         void *user_data);
/* Writes the buffered kv changes into the store's open transaction; 0 or -1. */
int unit_of_work_apply_writes(struct jv_context *work, struct store *store);
/* Forgets the buffered kv changes (once committed on their own). */
void unit_of_work_drop_writes(struct jv_context *work);

#endif
