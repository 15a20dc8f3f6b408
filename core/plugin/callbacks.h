/* Runs plugin callbacks (commands, buttons, message handlers, jobs) under each
 * plugin's serialisation and the handler time budget. */
#ifndef JARVIS_CALLBACKS_H
#define JARVIS_CALLBACKS_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct registry;
struct registry_job;

/* Told after each command and message-handler callback: the plugin, the
 * command (NULL for a message handler), how long it ran and what it
 * returned. One observer for the process (the dispatcher's update trace),
 * set before workers start; NULL for none. */
typedef void (*callback_observer_fn)(const char *plugin, const char *command, int64_t elapsed_ns,
                                     int result);
void callbacks_set_observer(callback_observer_fn observer);

/* Runs the command's handler on the calling thread. Returns 0 when a
 * handler ran, JV_E_NOTFOUND when no plugin registered that command,
 * JV_E_STATE for an admin command from a non-admin. */
int registry_run_command(struct registry *registry, const jv_message *message);
/* The JV_COMMAND_* flags of a plugin command, 0 when there is none. */
uint32_t registry_command_flags(struct registry *registry, const char *name);
/* Runs the callback handler whose prefix starts message->callback_data;
 * *ran tells whether a handler ran. JV_E_NOTFOUND when no plugin owns such
 * a prefix, JV_E_STATE for an admin button pressed by a non-admin, else
 * what the handler returned (JV_E_NOTFOUND: data it no longer knows). */
int registry_run_callback(struct registry *registry, const jv_message *message, int *ran);
/* The flags of the callback owning data's prefix, 0 when there is none. */
uint32_t registry_callback_flags(struct registry *registry, const char *data);
/* Runs free-text handlers in priority order until one returns JV_HANDLED.
 * Returns the number of handlers that ran. */
int registry_run_message_handlers(struct registry *registry, const jv_message *message);
/* Runs it on the calling thread under the plugin's serialisation. */
int registry_run_job(struct registry *registry, struct registry_job *job);
/* Handlers and jobs still running past [bot] handler_budget_ms get one
 * warning each naming plugin and command. Returns the ms until the next
 * check is due: when the first running callback passes its budget, or,
 * with none running, half a budget (one that starts meanwhile is warned
 * by 1.5 budgets at the latest); -1 when there is no budget. */
int64_t registry_check_budgets(struct registry *registry);

#endif
