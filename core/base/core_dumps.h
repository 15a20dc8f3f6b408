/* Core dumps and ptrace by other processes of our uid: off from the first
 * instruction of main, since a core holds the bot token and API keys in
 * plain text. [bot] allow_core_dumps = true turns them back on to debug. */
#ifndef JARVIS_CORE_DUMPS_H
#define JARVIS_CORE_DUMPS_H

/* PR_SET_DUMPABLE 0: no core file, /proc/PID/{environ,mem,fd,...} owned by
 * root, no ptrace attach by our own uid. 0, or -1 (errno) if refused. */
int core_dumps_forbid(void);
/* PR_SET_DUMPABLE 1, for [bot] allow_core_dumps = true. */
int core_dumps_allow(void);

#endif
