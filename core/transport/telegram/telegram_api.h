/* One Telegram Bot API call: JSON body over a kept-alive connection, the
 * {"ok":...} envelope decoded, and the failure sorted into what the caller
 * must do (wait retry_after, back off, exit 78...). Never logs the URL. */
#ifndef JARVIS_TELEGRAM_API_H
#define JARVIS_TELEGRAM_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct telegram_api;

enum telegram_outcome {
    TELEGRAM_OK,
    TELEGRAM_RETRY_AFTER,      /* 429: wait result.retry_after seconds */
    TELEGRAM_UNAUTHORIZED,     /* 401: the token is wrong, exit 78 */
    TELEGRAM_CONFLICT_WEBHOOK, /* 409 while a webhook is set */
    TELEGRAM_CONFLICT_POLLER,  /* 409: another getUpdates poller */
    TELEGRAM_MIGRATED,         /* 400 with parameters.migrate_to_chat_id */
    TELEGRAM_REJECTED,         /* any other 4xx: the request itself is wrong */
    TELEGRAM_TRANSIENT,        /* 5xx, network, timeout, malformed answer: back off */
    TELEGRAM_ABORTED           /* a stop was requested during the call */
};

struct pick_arena;
struct pick_node;

struct telegram_result {
    enum telegram_outcome outcome;
    json_t *value; /* "result" on TELEGRAM_OK (owned), else NULL */
    /* getUpdates read in one pass (telegram_read_updates): the "result"
     * array as nodes in arena (both owned), value then NULL */
    const struct pick_node *updates;
    struct pick_arena *arena;
    long error_code;            /* Telegram's error_code, or the HTTP status, or 0 */
    int64_t retry_after_s;      /* TELEGRAM_RETRY_AFTER */
    int64_t migrate_to_chat_id; /* TELEGRAM_MIGRATED */
    char description[256];      /* one line, redacted, for logs */
    int timed_out;              /* TELEGRAM_TRANSIENT: the whole-request limit hit */
    int64_t message_id;         /* TELEGRAM_OK of telegram_api_call_for_message_id, else 0 */
};

/* base: api_base such as "https://api.telegram.org" (no trailing slash
 * needed). NULL on allocation failure. */
struct telegram_api *telegram_api_create(const char *api_base, const char *token);
void telegram_api_destroy(struct telegram_api *api);

/* When abort_fd >= 0, the call returns TELEGRAM_ABORTED as soon as that fd
 * becomes readable (the lifecycle wake fd). */
void telegram_api_set_abort_fd(struct telegram_api *api, int abort_fd);

/* POSTs parameters (borrowed, may be NULL) as JSON to METHOD. timeout_s is
 * the whole request's limit. Always fills *result; release it after. */
void telegram_api_call(struct telegram_api *api, const char *method, json_t *parameters,
                       long timeout_s, struct telegram_result *result);
/* Like telegram_api_call for a caller that only needs the outcome: a plain
 * success is not parsed and result->value stays NULL. */
void telegram_api_call_without_result(struct telegram_api *api, const char *method,
                                      json_t *parameters, long timeout_s,
                                      struct telegram_result *result);
/* A call whose caller needs only the sent Message's message_id: read from
 * the answer's head when Telegram wrote it first (as it does), else from the
 * fully decoded result (then in result->value as with telegram_api_call). */
void telegram_api_call_for_message_id(struct telegram_api *api, const char *method,
                                      json_t *parameters, long timeout_s,
                                      struct telegram_result *result);
/* getUpdates: as telegram_api_call, the updates in result->value read by
 * telegram_read_updates when the answer is the common one (each update
 * holds what telegram_parse_update reads), else by telegram_classify. */
void telegram_api_call_for_updates(struct telegram_api *api, json_t *parameters, long timeout_s,
                                   struct telegram_result *result);
/* Like telegram_api_call, as multipart/form-data with the file's bytes in
 * file_field ("photo", "document"); parameters become form fields. */
void telegram_api_call_with_file(struct telegram_api *api, const char *method, json_t *parameters,
                                 const char *file_field, const void *bytes, size_t length,
                                 const char *file_name, long timeout_s,
                                 struct telegram_result *result);
void telegram_result_release(struct telegram_result *result);

/* Sorts a decoded answer (pure, for tests): http_status and body as received. */
void telegram_classify(long http_status, const char *body, size_t body_length,
                       struct telegram_result *result);

/* POSTs a ready JSON body; want_message_id: as telegram_api_call_for_message_id,
 * else as telegram_api_call_without_result. */
void telegram_api_post(struct telegram_api *api, const char *method, const char *body,
                       int want_message_id, long timeout_s, struct telegram_result *result);
/* telegram_api_post without waiting for the answer, for a sender that
 * waits for many connections in one thread; only when can_start (a
 * kept-alive connection driven by hand, not libcurl transfers). start and
 * resume return 1 when the call is over (*result filled, as
 * telegram_api_post fills it), else 0: wait until the socket is writable
 * (*wants_write) or readable, then resume; past the deadline give_up ends
 * it as timed out. The socket may change between calls (a reconnect): its
 * generation tells. */
int telegram_api_can_start(const struct telegram_api *api);
int telegram_api_start_post(struct telegram_api *api, const char *method, const char *body,
                            int want_message_id, long timeout_s, struct telegram_result *result,
                            int *wants_write);
int telegram_api_resume(struct telegram_api *api, struct telegram_result *result, int *wants_write);
void telegram_api_give_up(struct telegram_api *api, struct telegram_result *result);
int telegram_api_socket(const struct telegram_api *api, unsigned long *generation);
int64_t telegram_api_deadline_ms(const struct telegram_api *api);
/* Connects ahead of a start (blocking, for a helper thread): 0, or -1 with
 * the failure in *result as a call would have it (TRANSIENT, ABORTED). */
int telegram_api_connect(struct telegram_api *api, long timeout_s, struct telegram_result *result);
int telegram_api_connected(const struct telegram_api *api);
/* Between calls: its kept-alive connection turned readable (closed by the
 * server), so it is closed here rather than found dead by the next call. */
void telegram_api_drop_idle(struct telegram_api *api);

/* utf8_repair (base/utf8.h), then also rewrites unpaired \uD800-\uDFFF escapes to
 * \ufffd. Only for JSON documents: in plain text "\ud800" is just text. */
char *telegram_sanitize_utf8(const char *text, size_t length, size_t *out_length, size_t *replaced);

#endif
