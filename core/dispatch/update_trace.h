/* The record of one update's handling on a worker thread: which command or
 * handler ran, in which plugin, how long, with what outcome. It gives the
 * one info line per update and the handler-duration histogram. Never holds
 * or logs the message text unless log_level = debug. */
#ifndef JARVIS_UPDATE_TRACE_H
#define JARVIS_UPDATE_TRACE_H

#include <stdint.h>

#include "dispatch/incoming_message.h"

struct jv_context;

#define UPDATE_TRACE_NAME_MAX 33

struct update_trace {
    int64_t update_id;
    int64_t chat_id;
    int64_t started_ns;
    int kind; /* 1 command, 0 free text, -1 a command for another bot */
    char command[UPDATE_TRACE_NAME_MAX];
    char plugin[UPDATE_TRACE_NAME_MAX]; /* the last plugin callback that ran */
    int failed;                         /* a callback returned an error */
    const char *text;                   /* borrowed; logged only at debug */
};

/* The worker, around routing and committing one message. begin makes the
 * trace the thread's current one; end logs the line and forgets it. */
void update_trace_begin(struct update_trace *trace, const struct incoming_message *message,
                        const char *bot_username);
void update_trace_end(struct update_trace *trace, const struct jv_context *work);

/* The plugin layer's callback observer (callbacks_set_observer; the
 * dispatcher installs it): the handler histogram, and the plugin and
 * outcome of the update this thread is tracing. */
void update_trace_callback(const char *plugin, const char *command, int64_t elapsed_ns, int result);

#endif
