/* The state directory's owner and mode, refused like the lock directory's:
 * the database in it decides what the bot confirms to Telegram and holds
 * every plugin's data. Symbolic links are followed (systemd's DynamicUser
 * makes /var/lib/NAME one); the directory they lead to is what is checked. */
#include "state/state_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int state_dir_check(const char *state_dir, char *error, size_t error_size)
{
    struct stat info;
    if (stat(state_dir, &info) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(error, error_size, "state_dir %s: cannot stat: %s", state_dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(info.st_mode)) {
        snprintf(error, error_size, "state_dir %s: not a directory; set [bot] state_dir",
                 state_dir);
        return -1;
    }
    if (info.st_uid != geteuid() && info.st_uid != 0) {
        snprintf(error, error_size,
                 "state_dir %s is owned by uid %u, not by us (uid %u) or root; refusing: "
                 "chown it or set [bot] state_dir",
                 state_dir, (unsigned)info.st_uid, (unsigned)geteuid());
        return -1;
    }
    if (info.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(error, error_size,
                 "state_dir %s is writable by group or others (mode %04o); refusing: "
                 "chmod 700 it",
                 state_dir, (unsigned)(info.st_mode & 07777));
        return -1;
    }
    return 0;
}
