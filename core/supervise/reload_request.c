/* `jarvis reload`: finds the process holding the instance lock and sends
 * it SIGHUP, as `systemctl reload` does through ExecReload. */
#include "supervise/reload_request.h"

#include "supervise/reload.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "config/config.h"
#include "instance/instance.h"

#define REQUEST_SENT 0
#define REQUEST_FAILED 1
#define NO_HOLDER 3

int reload_request(const struct config *config, FILE *out)
{
    struct instance_holder holder;
    int found = instance_query(config, &holder);
    if (found < 0) {
        fprintf(out, "jarvis: %s: the lock file cannot be read\n", config->path);
        return REQUEST_FAILED;
    }
    if (found == 0) {
        fprintf(out, "jarvis: no instance runs for %s; nothing to reload\n", config->path);
        return NO_HOLDER;
    }
    if (holder.pid <= 0) {
        fprintf(out, "jarvis: the lock is held but its holder's pid is not recorded yet; try "
                     "again\n");
        return REQUEST_FAILED;
    }
    if (kill(holder.pid, SIGHUP) != 0) {
        fprintf(out, "jarvis: cannot signal pid %ld: %s\n", (long)holder.pid, strerror(errno));
        return errno == ESRCH ? NO_HOLDER : REQUEST_FAILED;
    }
    fprintf(out, "jarvis: reload requested from pid %ld\n", (long)holder.pid);
    return REQUEST_SENT;
}
