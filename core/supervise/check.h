/* `jarvis check`: read the config, load every enabled plugin once, report
 * (like nginx -t). */
#ifndef JARVIS_CHECK_H
#define JARVIS_CHECK_H

struct config;

enum check_detail { CHECK_QUIET, CHECK_NORMAL, CHECK_VERBOSE };

/* 0 when every enabled plugin loaded, else 1. QUIET logs only warnings and
 * errors and prints two lines when all is well; VERBOSE also prints every
 * [bot], [lock] and [plugins] setting in effect. */
int check_run(struct config *config, enum check_detail detail);

#endif
