/* The plugin's chat entry points: /sentiment, /subscribe, /unsubscribe and
 * the free-text watcher that records token mentions. user_data is the
 * sentiment_state for all of them. */
#ifndef SENTIMENT_COMMANDS_H
#define SENTIMENT_COMMANDS_H

#include <jarvis/plugin.h>

int sentiment_command(jv_plugin *self, const jv_message *message, void *user_data);
int sentiment_subscribe_command(jv_plugin *self, const jv_message *message, void *user_data);
int sentiment_unsubscribe_command(jv_plugin *self, const jv_message *message, void *user_data);
/* Always JV_CONTINUE: watching never consumes a message. */
int sentiment_watch_message(jv_plugin *self, const jv_message *message, void *user_data);

#endif
