/* JARVIS_TEST_KILL_AT: see test_hooks.h. */
#include "base/test_hooks.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char kill_step[64];
static long kill_at_count = 1;
static atomic_long reached_count;

void test_hooks_init(void)
{
    const char *value = getenv("JARVIS_TEST_KILL_AT");
    if (value == NULL || value[0] == '\0')
        return;
    snprintf(kill_step, sizeof kill_step, "%s", value);
    char *colon = strchr(kill_step, ':');
    if (colon != NULL) {
        *colon = '\0';
        long count = strtol(colon + 1, NULL, 10);
        kill_at_count = count > 0 ? count : 1;
    }
}

void test_hook_reached(const char *step)
{
    if (kill_step[0] == '\0' || strcmp(step, kill_step) != 0)
        return;
    if (atomic_fetch_add(&reached_count, 1) + 1 == kill_at_count)
        raise(SIGKILL);
}
