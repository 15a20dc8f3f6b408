/* [bot] state_dir is checked like the lock's directory before the store
 * opens it: another user who can write there could replace the database. */
#ifndef JARVIS_STATE_DIR_H
#define JARVIS_STATE_DIR_H

#include <stddef.h>

/* 0 when state_dir is ours (or root's) and writable by nobody else, or does
 * not exist yet (the store creates it 0700); else -1 with one line. */
int state_dir_check(const char *state_dir, char *error, size_t error_size);

#endif
