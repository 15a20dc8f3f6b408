/* Test-only fault injection: JARVIS_TEST_KILL_AT=STEP[:N] makes the process
 * SIGKILL itself the Nth time (default 1st) it reaches the named pipeline
 * step, so tests can prove that a death between any two steps loses
 * nothing. Unset (always, outside tests) it costs one branch. */
#ifndef JARVIS_TEST_HOOKS_H
#define JARVIS_TEST_HOOKS_H

/* Reads the environment once; call before any thread starts. */
void test_hooks_init(void);
void test_hook_reached(const char *step);

#endif
