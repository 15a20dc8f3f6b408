/* Core dumps off by default: the process's memory holds secrets that must
 * not end up in a core file under /var/lib/systemd/coredump or the cwd. */
#include "base/core_dumps.h"

#include <sys/prctl.h>

int core_dumps_forbid(void)
{
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int core_dumps_allow(void)
{
    return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
