/* Routing and the worker pool. Each chat has a FIFO of pending messages; a
 * chat with work and no worker on it sits in the ready list, so one chat's
 * messages run strictly one at a time and in order while other chats run in
 * parallel. Workers turn a message into a jv_message and route it: built-ins,
 * plugin commands, or the free-text handlers. Each message is handled inside
 * a unit of work (its jv_context) that collects its replies and kv writes
 * for the transport's commit. */
#include "dispatch/dispatch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jarvis/plugin.h>

#include "base/clock.h"
#include "base/id_table.h"
#include "config/config.h"
#include "state/crash_record.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "dispatch/outgoing_content.h"
#include "plugin/registry.h"
#include "state/unit_of_work.h"
#include "dispatch/update_trace.h"
#include "plugin/callbacks.h"
#include "plugin/help.h"
#include "base/text.h"
#include "dispatch/command_text.h"

#define BOT_USERNAME_MAX 64
/* Telegram shows "typing" for 5 s; a handler past TYPING_AFTER_MS gets it
 * again every TYPING_EVERY_MS until it returns. */
#define TYPING_AFTER_MS 1000
#define TYPING_EVERY_MS 4500
#define TYPING_CHECK_MS 200

struct dispatch;

/* What one worker is handling, for the typing timer. */
struct worker_slot {
    struct dispatch *dispatch;
    int busy;
    int64_t chat_id, thread_id;
    int64_t started_ms, typed_ms;
};

struct queued_message {
    struct queued_message *next;
    struct incoming_message message; /* strings below are owned copies */
    dispatch_done_fn done;
    void *context;
};

struct chat_queue {
    int64_t chat_id;               /* first: the key of dispatch->chats (id_table.h) */
    struct chat_queue *next_ready; /* chats waiting for a worker */
    struct queued_message *head;
    struct queued_message *tail;
    int running; /* a worker is handling this chat's head message */
};

struct dispatch {
    struct host *host;
    pthread_mutex_t lock;
    pthread_cond_t work_available;
    pthread_cond_t all_done;
    /* every chat with pending or running work, by id: a submit costs the
     * same with ten chats in flight or a hundred thousand */
    struct id_table chats;
    struct chat_queue *ready_head;
    struct chat_queue *ready_tail;
    size_t unfinished;   /* submitted and not yet done */
    size_t active;       /* messages a worker is handling right now */
    int paused;          /* workers take no new message (a reload is swapping plugins) */
    pthread_cond_t idle; /* active reached 0 */
    int stopping;
    char bot_username[BOT_USERNAME_MAX];
    char *help_note; /* dispatch_set_help_note; NULL: none */
    pthread_t *workers;
    struct worker_slot *slots;
    int worker_count;
    /* the typing timer (dispatch_set_typing) */
    dispatch_typing_fn typing;
    void *typing_context;
    pthread_t typing_thread;
    int typing_started, typing_stopping;
    int typing_sleeps; /* no handler was running: it waits untimed for one */
    pthread_cond_t typing_wake;
    /* group admins (dispatch_set_admin_lookup) */
    group_admin_lookup_fn admin_lookup;
    void *admin_lookup_context;
};

/* ---- building the jv_message ---- */

struct prepared_message {
    jv_message message;
    char command[COMMAND_NAME_MAX + 1];
    char *args;        /* trimmed copy */
    char *argv_buffer; /* args with NULs between the words */
    const char **argv;
};

/* Splits in place; argv[argc] is NULL as the ABI promises. */
static int split_words(char *buffer, const char ***argv_out, int *argc_out)
{
    size_t capacity = 1;
    for (const char *p = buffer; *p != '\0'; p++)
        if (!text_is_space(*p) && (p == buffer || text_is_space(p[-1])))
            capacity++;
    const char **argv = calloc(capacity, sizeof *argv);
    if (argv == NULL)
        return -1;
    int argc = 0;
    char *p = buffer;
    while (*p != '\0') {
        while (text_is_space(*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[argc++] = p;
        while (*p != '\0' && !text_is_space(*p))
            p++;
    }
    argv[argc] = NULL;
    *argv_out = argv;
    *argc_out = argc;
    return 0;
}

static void prepared_message_release(struct prepared_message *prepared)
{
    free(prepared->args);
    free(prepared->argv_buffer);
    free(prepared->argv);
}

static int prepare_command_fields(struct prepared_message *prepared, const char *args)
{
    prepared->args = text_trimmed_copy(args);
    prepared->argv_buffer = prepared->args != NULL ? strdup(prepared->args) : NULL;
    if (prepared->argv_buffer == NULL)
        return -1;
    int argc = 0;
    if (split_words(prepared->argv_buffer, &prepared->argv, &argc) != 0)
        return -1;
    prepared->message.command = prepared->command;
    prepared->message.args = prepared->args;
    prepared->message.argc = argc;
    prepared->message.argv = prepared->argv;
    return 0;
}

static void prepare_common_fields(struct prepared_message *prepared,
                                  const struct incoming_message *incoming, const char *bot_username,
                                  struct jv_context *work)
{
    jv_message *message = &prepared->message;
    message->struct_size = sizeof *message;
    message->update_id = incoming->update_id;
    message->chat_id = incoming->chat_id;
    message->user_id = incoming->user_id;
    message->message_id = incoming->message_id;
    message->chat_type = incoming->chat_type;
    message->user_name = incoming->user_name;
    message->text = incoming->text;
    message->is_private = strcmp(incoming->chat_type, "private") == 0;
    message->mentions_bot = command_mentions(incoming->text, bot_username);
    message->is_reply_to_bot = incoming->is_reply_to_bot;
    message->context = work;
    message->language_code = incoming->language_code ? incoming->language_code : "";
    message->reply_to_text = incoming->reply_to_text ? incoming->reply_to_text : "";
    message->is_edited = incoming->is_edited;
    message->callback_data = incoming->callback_id ? incoming->callback_data : NULL;
}

/* ---- routing ---- */

static void send_reply(struct dispatch *dispatch, const jv_message *message, const char *text)
{
    (void)dispatch;
    struct jv_context *work = message->context;
    int result = unit_of_work_reply(work, work->chat_id, work->thread_id, text);
    if (result != JV_OK)
        log_warn("update %lld: reply to chat %lld failed (%d)", (long long)message->update_id,
                 (long long)message->chat_id, result);
}

/* /help COMMAND: that command's line, its usage and whether it is for
 * admins; an unknown name says so and points at the whole list. */
static void reply_with_command_help(struct dispatch *dispatch, const jv_message *message)
{
    char *help = registry_command_help(dispatch->host->registry, message->argv[0]);
    if (help != NULL) {
        send_reply(dispatch, message, help);
        free(help);
        return;
    }
    char text[160];
    snprintf(text, sizeof text, "No command /%.40s. Send /help for the list.",
             message->argv[0][0] == '/' ? message->argv[0] + 1 : message->argv[0]);
    send_reply(dispatch, message, text);
}

static void reply_with_help(struct dispatch *dispatch, const jv_message *message)
{
    if (message->argc > 0) {
        reply_with_command_help(dispatch, message);
        return;
    }
    char *help = registry_help_text(dispatch->host->registry);
    size_t length = help != NULL ? strlen(help) : 0;
    while (length > 0 && help[length - 1] == '\n')
        help[--length] = '\0'; /* the transport ends the message itself */
    char *with_note = NULL;
    pthread_mutex_lock(&dispatch->lock);
    if (help != NULL && dispatch->help_note != NULL &&
        asprintf(&with_note, "%s\n%s", help, dispatch->help_note) > 0) {
        free(help);
        help = with_note;
    }
    pthread_mutex_unlock(&dispatch->lock);
    send_reply(dispatch, message, help != NULL ? help : "No commands are available.");
    free(help);
}

static const char start_greeting[] = "Hello, I am jarvis. Send /help for the list of commands.";

static int refused_in_group(struct dispatch *dispatch, const jv_message *message, uint32_t flags,
                            const char *what, char *answer, size_t answer_size)
{
    pthread_mutex_lock(&dispatch->lock);
    group_admin_lookup_fn lookup = dispatch->admin_lookup;
    void *context = dispatch->admin_lookup_context;
    pthread_mutex_unlock(&dispatch->lock);
    return group_admins_refuse(dispatch->host->config, flags, message, what, lookup, context,
                               answer, answer_size);
}

static void run_command(struct dispatch *dispatch, const jv_message *message)
{
    if (strcmp(message->command, "help") == 0) {
        reply_with_help(dispatch, message);
        return;
    }
    if (strcmp(message->command, "start") == 0) {
        send_reply(dispatch, message, start_greeting);
        return;
    }
    char text[192];
    char what[40];
    text_join(what, sizeof what, "/", message->command);
    if (refused_in_group(dispatch, message,
                         registry_command_flags(dispatch->host->registry, message->command), what,
                         text, sizeof text)) {
        send_reply(dispatch, message, text);
        return;
    }
    int result = registry_run_command(dispatch->host->registry, message);
    if (result == JV_E_NOTFOUND) {
        snprintf(text, sizeof text, "Unknown command /%s. Send /help for the list.",
                 message->command);
        send_reply(dispatch, message, text);
    } else if (result == JV_E_STATE) {
        snprintf(text, sizeof text, "/%s is for admins only.", message->command);
        send_reply(dispatch, message, text);
    } else if (result != JV_OK) {
        log_warn("update %lld: /%s failed (%d)", (long long)message->update_id, message->command,
                 result);
    }
}

static void route_prepared(struct dispatch *dispatch, struct prepared_message *prepared,
                           const char *bot_username)
{
    const char *args = NULL;
    int kind = command_parse(prepared->message.text, bot_username, prepared->command,
                             sizeof prepared->command, &args);
    if (kind < 0) {
        log_debug("update %lld: command for another bot, ignored",
                  (long long)prepared->message.update_id);
        return;
    }
    if (kind == 0) {
        registry_run_message_handlers(dispatch->host->registry, &prepared->message);
        return;
    }
    if (prepare_command_fields(prepared, args) != 0) {
        log_error("update %lld: out of memory, message dropped",
                  (long long)prepared->message.update_id);
        return;
    }
    run_command(dispatch, &prepared->message);
}

/* ---- button presses ---- */

static void answer_press(const jv_message *message, const char *text)
{
    struct jv_context *work = message->context;
    if (work->callback_answered)
        return;
    struct pending_reply answer;
    if (outgoing_callback_answer(&answer, work->chat_id, work->callback_query_id, text, 0) !=
            JV_OK ||
        unit_of_work_add(work, &answer) != JV_OK) {
        log_warn("update %lld: out of memory answering a button press",
                 (long long)message->update_id);
        return;
    }
    work->callback_answered = 1;
}

/* The press goes to the plugin owning the data's prefix; whatever happens,
 * the query is answered (the plugin's toast, a short explanation, or
 * nothing), so the user's button never spins. */
static void route_press(struct dispatch *dispatch, const jv_message *message)
{
    char refusal[192];
    if (refused_in_group(dispatch, message,
                         registry_callback_flags(dispatch->host->registry, message->callback_data),
                         "This button", refusal, sizeof refusal)) {
        answer_press(message, refusal);
        return;
    }
    int ran = 0;
    int result = registry_run_callback(dispatch->host->registry, message, &ran);
    if (!ran && result == JV_E_NOTFOUND)
        log_info("update %lld: a button press with unknown data '%.64s'; answered",
                 (long long)message->update_id, message->callback_data);
    if (!ran && result == JV_E_STATE)
        answer_press(message, "Only admins can use this button.");
    else if (!ran || result == JV_E_NOTFOUND || result == JV_E_INVAL)
        answer_press(message, "This button has expired.");
    else
        answer_press(message, "");
}

/* Answers go first: the spinner stops before any message goes out. */
static void answer_first(struct jv_context *work)
{
    for (size_t i = 1; i < work->reply_count; i++) {
        const char *method = work->replies[i].method;
        if (method == NULL || strcmp(method, "answerCallbackQuery") != 0)
            continue;
        struct pending_reply answer = work->replies[i];
        memmove(&work->replies[1], &work->replies[0], i * sizeof answer);
        work->replies[0] = answer;
        return;
    }
}

/* kv calls on this thread join the update's commit while it is handled. */
static void route_message(struct dispatch *dispatch, const struct incoming_message *incoming,
                          const char *bot_username, struct jv_context *work)
{
    struct prepared_message prepared;
    memset(&prepared, 0, sizeof prepared);
    prepare_common_fields(&prepared, incoming, bot_username, work);
    unit_of_work_set_current(work);
    if (incoming->callback_id != NULL && incoming->callback_id[0] != '\0') {
        route_press(dispatch, &prepared.message);
        answer_first(work);
    } else {
        route_prepared(dispatch, &prepared, bot_username);
    }
    unit_of_work_set_current(NULL);
    prepared_message_release(&prepared);
}

/* ---- queues ---- */

static void queued_message_free(struct queued_message *item)
{
    free(item); /* its strings live in the same block */
}

/* Copies text to *at (advancing it) and returns the copy; NULL stays NULL
 * unless required, which makes it "". */
static const char *place_text(char **at, const char *text, int required)
{
    if (text == NULL && !required)
        return NULL;
    const char *source = text != NULL ? text : "";
    size_t length = strlen(source) + 1;
    char *copy = memcpy(*at, source, length);
    *at += length;
    return copy;
}

static size_t text_size(const char *text)
{
    return text != NULL ? strlen(text) + 1 : 1;
}

/* One allocation for the item and its seven strings: a message costs one
 * malloc and one free on its way through the queue, not eight of each. */
static struct queued_message *queued_message_copy(const struct incoming_message *message,
                                                  dispatch_done_fn done, void *context)
{
    size_t size = sizeof(struct queued_message) + text_size(message->chat_type) +
                  text_size(message->user_name) + text_size(message->text) +
                  text_size(message->language_code) + text_size(message->reply_to_text) +
                  text_size(message->callback_id) + text_size(message->callback_data);
    struct queued_message *item = malloc(size);
    if (item == NULL)
        return NULL;
    *item = (struct queued_message){.message = *message, .done = done, .context = context};
    char *at = (char *)(item + 1);
    item->message.chat_type = place_text(&at, message->chat_type, 1);
    item->message.user_name = place_text(&at, message->user_name, 1);
    item->message.text = place_text(&at, message->text, 1);
    item->message.language_code = place_text(&at, message->language_code, 0);
    item->message.reply_to_text = place_text(&at, message->reply_to_text, 0);
    item->message.callback_id = place_text(&at, message->callback_id, 0);
    item->message.callback_data = place_text(&at, message->callback_data, 0);
    return item;
}

static struct chat_queue *find_chat(struct dispatch *dispatch, int64_t chat_id)
{
    return id_table_find(&dispatch->chats, chat_id);
}

static void push_ready(struct dispatch *dispatch, struct chat_queue *chat)
{
    chat->next_ready = NULL;
    if (dispatch->ready_tail != NULL)
        dispatch->ready_tail->next_ready = chat;
    else
        dispatch->ready_head = chat;
    dispatch->ready_tail = chat;
    pthread_cond_signal(&dispatch->work_available);
}

static struct chat_queue *pop_ready(struct dispatch *dispatch)
{
    struct chat_queue *chat = dispatch->ready_head;
    if (chat == NULL)
        return NULL;
    dispatch->ready_head = chat->next_ready;
    if (dispatch->ready_head == NULL)
        dispatch->ready_tail = NULL;
    chat->next_ready = NULL;
    return chat;
}

static void remove_chat(struct dispatch *dispatch, struct chat_queue *chat)
{
    id_table_remove(&dispatch->chats, chat->chat_id);
    free(chat);
}

static void free_chat_and_queue(void *record, void *context)
{
    (void)context;
    struct chat_queue *chat = record;
    while (chat->head != NULL) {
        struct queued_message *item = chat->head;
        chat->head = item->next;
        queued_message_free(item);
    }
    free(chat);
}

int dispatch_submit(struct dispatch *dispatch, const struct incoming_message *message,
                    dispatch_done_fn done, void *context)
{
    struct queued_message *item = queued_message_copy(message, done, context);
    if (item == NULL)
        return -1;
    pthread_mutex_lock(&dispatch->lock);
    struct chat_queue *chat = dispatch->stopping ? NULL : find_chat(dispatch, message->chat_id);
    if (!dispatch->stopping && chat == NULL) {
        chat = calloc(1, sizeof *chat);
        if (chat != NULL) {
            chat->chat_id = message->chat_id;
            if (id_table_insert(&dispatch->chats, &chat->chat_id) != 0) {
                free(chat);
                chat = NULL;
            }
        }
    }
    if (chat == NULL) {
        pthread_mutex_unlock(&dispatch->lock);
        queued_message_free(item);
        return -1;
    }
    int was_idle = chat->head == NULL && !chat->running;
    if (chat->tail != NULL)
        chat->tail->next = item;
    else
        chat->head = item;
    chat->tail = item;
    dispatch->unfinished++;
    if (was_idle)
        push_ready(dispatch, chat);
    pthread_mutex_unlock(&dispatch->lock);
    return 0;
}

/* Takes the head message of the next ready chat; NULL once stopping and idle. */
static struct queued_message *take_work(struct dispatch *dispatch, struct chat_queue **chat_out,
                                        char *bot_username)
{
    pthread_mutex_lock(&dispatch->lock);
    struct chat_queue *chat = NULL;
    /* paused: queued messages stay queued (in order) until the resume */
    while (!dispatch->stopping && (dispatch->paused || (chat = pop_ready(dispatch)) == NULL))
        pthread_cond_wait(&dispatch->work_available, &dispatch->lock);
    if (chat == NULL)
        chat = pop_ready(dispatch); /* stopping: finish what is queued */
    struct queued_message *item = NULL;
    if (chat != NULL) {
        dispatch->active++;
        item = chat->head;
        chat->head = item->next;
        if (chat->head == NULL)
            chat->tail = NULL;
        chat->running = 1;
        memcpy(bot_username, dispatch->bot_username, BOT_USERNAME_MAX);
    }
    pthread_mutex_unlock(&dispatch->lock);
    *chat_out = chat;
    return item;
}

static void finish_work(struct dispatch *dispatch, struct chat_queue *chat)
{
    pthread_mutex_lock(&dispatch->lock);
    chat->running = 0;
    if (--dispatch->active == 0)
        pthread_cond_broadcast(&dispatch->idle);
    if (chat->head != NULL)
        push_ready(dispatch, chat); /* to the back: other chats get their turn */
    else
        remove_chat(dispatch, chat);
    dispatch->unfinished--;
    if (dispatch->unfinished == 0)
        pthread_cond_broadcast(&dispatch->all_done);
    pthread_mutex_unlock(&dispatch->lock);
}

static void slot_set(struct worker_slot *slot, const struct incoming_message *message)
{
    struct dispatch *dispatch = slot->dispatch;
    pthread_mutex_lock(&dispatch->lock);
    slot->busy = message != NULL && (message->callback_id == NULL || !message->callback_id[0]);
    if (slot->busy) {
        slot->chat_id = message->chat_id;
        slot->thread_id = message->message_thread_id;
        slot->started_ms = monotonic_ms();
        slot->typed_ms = 0;
        if (dispatch->typing_sleeps) {
            dispatch->typing_sleeps = 0;
            pthread_cond_signal(&dispatch->typing_wake);
        }
    }
    pthread_mutex_unlock(&dispatch->lock);
}

/* Groups quote the question unless [bot] reply_quotes = false; a press
 * has no question of its own. */
static int64_t question_to_quote(struct dispatch *dispatch, const struct incoming_message *message)
{
    const struct config *config = dispatch->host->config;
    if (strcmp(message->chat_type, "private") == 0 || message->message_id <= 0 ||
        (message->callback_id != NULL && message->callback_id[0]) ||
        (config != NULL && !config->reply_quotes))
        return 0;
    return message->message_id;
}

/* The chat whose message this worker's done callback commits. */
static _Thread_local struct chat_queue *done_chat;

int dispatch_work_ready(struct dispatch *dispatch)
{
    pthread_mutex_lock(&dispatch->lock);
    int ready = !dispatch->paused && !dispatch->stopping &&
                (dispatch->ready_head != NULL || (done_chat != NULL && done_chat->head != NULL));
    pthread_mutex_unlock(&dispatch->lock);
    return ready;
}

static void *worker_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-worker"); /* roles in top -H, /proc */
    struct worker_slot *slot = argument;
    struct dispatch *dispatch = slot->dispatch;
    char bot_username[BOT_USERNAME_MAX];
    crash_record_thread_init();
    for (;;) {
        struct chat_queue *chat = NULL;
        struct queued_message *item = take_work(dispatch, &chat, bot_username);
        if (item == NULL)
            return NULL;
        struct jv_context work;
        unit_of_work_init(&work, item->message.update_id, item->message.chat_id,
                          item->message.message_thread_id);
        work.done = item->done;
        work.done_context = item->context;
        struct update_trace trace;
        update_trace_begin(&trace, &item->message, bot_username);
        work.quote_message_id = question_to_quote(dispatch, &item->message);
        if (item->message.callback_id != NULL && item->message.callback_id[0])
            work.callback_query_id = strdup(item->message.callback_id);
        slot_set(slot, &item->message);
        route_message(dispatch, &item->message, bot_username, &work);
        slot_set(slot, NULL);
        /* committed before the chat is released, so a chat's replies reach
         * the outbox in the order of its messages */
        done_chat = chat;
        if (item->done != NULL)
            item->done(&work, item->context);
        done_chat = NULL;
        update_trace_end(&trace, &work);
        unit_of_work_release(&work);
        queued_message_free(item);
        finish_work(dispatch, chat);
    }
}

/* ---- typing ---- */

struct typing_target {
    int64_t chat_id, thread_id;
};

/* Under the lock: the chats whose handler has run past the threshold and
 * whose last "typing" is fading. */
static size_t due_typing(struct dispatch *dispatch, struct typing_target *targets)
{
    int64_t now = monotonic_ms();
    size_t count = 0;
    for (int i = 0; i < dispatch->worker_count; i++) {
        struct worker_slot *slot = &dispatch->slots[i];
        if (!slot->busy || now - slot->started_ms < TYPING_AFTER_MS ||
            (slot->typed_ms != 0 && now - slot->typed_ms < TYPING_EVERY_MS))
            continue;
        slot->typed_ms = now;
        targets[count++] = (struct typing_target){slot->chat_id, slot->thread_id};
    }
    return count;
}

static int any_slot_busy(const struct dispatch *dispatch)
{
    for (int i = 0; i < dispatch->worker_count; i++)
        if (dispatch->slots[i].busy)
            return 1;
    return 0;
}

/* Under the lock. A timer only while a handler runs: an idle bot's typing
 * thread sleeps until slot_set wakes it. */
static void wait_for_typing_check(struct dispatch *dispatch)
{
    if (!any_slot_busy(dispatch)) {
        dispatch->typing_sleeps = 1;
        pthread_cond_wait(&dispatch->typing_wake, &dispatch->lock);
        dispatch->typing_sleeps = 0;
        return;
    }
    struct timespec wake = monotonic_deadline_after(TYPING_CHECK_MS);
    pthread_cond_timedwait(&dispatch->typing_wake, &dispatch->lock, &wake);
}

static void *typing_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-typing"); /* roles in top -H, /proc */
    struct dispatch *dispatch = argument;
    struct typing_target *targets = calloc((size_t)dispatch->worker_count, sizeof *targets);
    pthread_mutex_lock(&dispatch->lock);
    while (targets != NULL && !dispatch->typing_stopping) {
        wait_for_typing_check(dispatch);
        size_t count = dispatch->typing_stopping ? 0 : due_typing(dispatch, targets);
        dispatch_typing_fn typing = dispatch->typing;
        void *context = dispatch->typing_context;
        pthread_mutex_unlock(&dispatch->lock);
        for (size_t i = 0; i < count; i++)
            typing(targets[i].chat_id, targets[i].thread_id, context);
        pthread_mutex_lock(&dispatch->lock);
    }
    pthread_mutex_unlock(&dispatch->lock);
    free(targets);
    return NULL;
}

void dispatch_set_admin_lookup(struct dispatch *dispatch, group_admin_lookup_fn lookup,
                               void *context)
{
    pthread_mutex_lock(&dispatch->lock);
    dispatch->admin_lookup = lookup;
    dispatch->admin_lookup_context = context;
    pthread_mutex_unlock(&dispatch->lock);
}

void dispatch_set_typing(struct dispatch *dispatch, dispatch_typing_fn typing, void *context)
{
    pthread_mutex_lock(&dispatch->lock);
    int started = dispatch->typing_started;
    dispatch->typing_stopping = started;
    pthread_cond_broadcast(&dispatch->typing_wake);
    pthread_mutex_unlock(&dispatch->lock);
    if (started)
        pthread_join(dispatch->typing_thread, NULL);
    pthread_mutex_lock(&dispatch->lock);
    dispatch->typing_started = 0;
    dispatch->typing_stopping = 0;
    dispatch->typing = typing;
    dispatch->typing_context = context;
    pthread_mutex_unlock(&dispatch->lock);
    if (typing == NULL)
        return;
    sigset_t previous;
    lifecycle_block_signals(&previous);
    if (pthread_create(&dispatch->typing_thread, NULL, typing_main, dispatch) == 0)
        dispatch->typing_started = 1;
    else
        log_warn("dispatch: cannot start the typing timer; no \"typing\" will be shown");
    lifecycle_restore_signals(&previous);
}

/* ---- lifecycle ---- */

/* Workers block the stop and reopen signals, so those land on the main
 * thread, whose poll they are meant to interrupt. */
static int start_workers(struct dispatch *dispatch)
{
    sigset_t previous;
    lifecycle_block_signals(&previous);
    int started = 0;
    for (; started < dispatch->worker_count; started++)
        if (pthread_create(&dispatch->workers[started], NULL, worker_main,
                           &dispatch->slots[started]) != 0)
            break;
    lifecycle_restore_signals(&previous);
    dispatch->worker_count = started;
    return started > 0 ? 0 : -1;
}

struct dispatch *dispatch_create(struct host *host, int workers)
{
    if (workers < 1)
        workers = 1;
    callbacks_set_observer(update_trace_callback);
    struct dispatch *dispatch = calloc(1, sizeof *dispatch);
    if (dispatch == NULL)
        return NULL;
    dispatch->host = host;
    id_table_init(&dispatch->chats);
    dispatch->workers = calloc((size_t)workers, sizeof *dispatch->workers);
    dispatch->slots = calloc((size_t)workers, sizeof *dispatch->slots);
    dispatch->worker_count = workers;
    if (dispatch->workers == NULL || dispatch->slots == NULL ||
        pthread_mutex_init(&dispatch->lock, NULL) != 0) {
        free(dispatch->workers);
        free(dispatch->slots);
        free(dispatch);
        return NULL;
    }
    for (int i = 0; i < workers; i++)
        dispatch->slots[i].dispatch = dispatch;
    pthread_cond_init(&dispatch->work_available, NULL);
    monotonic_cond_init(&dispatch->typing_wake);
    monotonic_cond_init(&dispatch->all_done);
    monotonic_cond_init(&dispatch->idle);
    if (start_workers(dispatch) != 0) {
        log_error("dispatch: cannot start worker threads");
        dispatch_destroy(dispatch);
        return NULL;
    }
    return dispatch;
}

void dispatch_set_bot_username(struct dispatch *dispatch, const char *username)
{
    pthread_mutex_lock(&dispatch->lock);
    snprintf(dispatch->bot_username, sizeof dispatch->bot_username, "%s",
             username != NULL ? username : "");
    pthread_mutex_unlock(&dispatch->lock);
}

int dispatch_set_help_note(struct dispatch *dispatch, const char *note)
{
    char *copy = NULL;
    if (note != NULL && (copy = strdup(note)) == NULL)
        return JV_E_NOMEM;
    pthread_mutex_lock(&dispatch->lock);
    free(dispatch->help_note);
    dispatch->help_note = copy;
    pthread_mutex_unlock(&dispatch->lock);
    return JV_OK;
}

size_t dispatch_drain(struct dispatch *dispatch, int64_t timeout_ms)
{
    struct timespec deadline = monotonic_deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&dispatch->lock);
    while (dispatch->unfinished > 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&dispatch->all_done, &dispatch->lock);
        } else if (pthread_cond_timedwait(&dispatch->all_done, &dispatch->lock, &deadline) != 0) {
            break;
        }
    }
    size_t unfinished = dispatch->unfinished;
    pthread_mutex_unlock(&dispatch->lock);
    return unfinished;
}

int dispatch_pause(struct dispatch *dispatch, int64_t timeout_ms)
{
    struct timespec deadline = monotonic_deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&dispatch->lock);
    dispatch->paused = 1;
    while (dispatch->active > 0)
        if (pthread_cond_timedwait(&dispatch->idle, &dispatch->lock, &deadline) != 0)
            break;
    int idle = dispatch->active == 0;
    pthread_mutex_unlock(&dispatch->lock);
    if (!idle)
        dispatch_resume(dispatch);
    return idle ? 0 : -1;
}

void dispatch_resume(struct dispatch *dispatch)
{
    pthread_mutex_lock(&dispatch->lock);
    dispatch->paused = 0;
    pthread_cond_broadcast(&dispatch->work_available);
    pthread_mutex_unlock(&dispatch->lock);
}

void dispatch_destroy(struct dispatch *dispatch)
{
    if (dispatch == NULL)
        return;
    dispatch_set_typing(dispatch, NULL, NULL);
    pthread_mutex_lock(&dispatch->lock);
    dispatch->stopping = 1;
    pthread_cond_broadcast(&dispatch->work_available);
    pthread_mutex_unlock(&dispatch->lock);
    /* Workers leave only once the ready list is empty, so this also
     * finishes whatever was still queued. */
    for (int i = 0; i < dispatch->worker_count; i++)
        pthread_join(dispatch->workers[i], NULL);
    id_table_each(&dispatch->chats, free_chat_and_queue, NULL);
    id_table_clear(&dispatch->chats);
    pthread_cond_destroy(&dispatch->work_available);
    pthread_cond_destroy(&dispatch->all_done);
    pthread_cond_destroy(&dispatch->idle);
    pthread_cond_destroy(&dispatch->typing_wake);
    pthread_mutex_destroy(&dispatch->lock);
    free(dispatch->slots);
    free(dispatch->help_note);
    free(dispatch->workers);
    free(dispatch);
}
