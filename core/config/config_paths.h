/* Where plugins.ini is and what its relative paths mean: the config file
 * chosen from the command line, the environment or the defaults, and paths
 * resolved against its directory. */
#ifndef JARVIS_CONFIG_PATHS_H
#define JARVIS_CONFIG_PATHS_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* The file to read: option_path (-c), else $JARVIS_CONFIG, else
 * ./plugins.ini when it exists, else system_path. */
const char *config_choose_path(const char *option_path, const char *system_path);
/* Sets config->directory and makes state_dir, log_file, lock_path and each
 * [plugins] dir absolute against it (config_paths.c; called by config_load). */
int config_resolve_paths(struct config *config, char *error, size_t error_size);
/* chdir to config->directory, so plugin data files named relative in their
 * sections follow the config file too. 0 or -1 (errno set). */
int config_enter_directory(const struct config *config);

#endif
