/* The plugin's chat entry points: /sentiment and the free-text watcher
 * that records token mentions (subscriptions are in subscribe.h).
 * user_data is the sentiment_state for all of them. */
#ifndef SENTIMENT_COMMANDS_H
#define SENTIMENT_COMMANDS_H

#include <jarvis/plugin.h>

int sentiment_command(jv_plugin *self, const jv_message *message, void *user_data);
/* Records the sentiment of token mentions in opinions (questions are
 * skipped, see questions.h). Always JV_CONTINUE: it never consumes. */
int sentiment_watch_message(jv_plugin *self, const jv_message *message, void *user_data);

#endif
