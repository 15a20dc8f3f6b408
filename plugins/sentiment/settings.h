/* Reads the [sentiment] section of plugins.ini into the plugin state and
 * loads the lexicon it names. */
#ifndef SENTIMENT_SETTINGS_H
#define SENTIMENT_SETTINGS_H

#include <stddef.h>

#include "state.h"

/* JV_OK, or a negative JV_E_* with a one-line reason in error. */
int sentiment_settings_load(sentiment_state *state, char *error, size_t error_size);

/* The lexicon shipped next to the plugin: "<dir of sentiment.so>/sentiment/lexicon.txt". */
int sentiment_default_lexicon_path(char *path, size_t size);

#endif
