/* The one rule for plugin and command names, shared by the config reader
 * (plugins.ini sections) and the loader, so both refuse the same names. */
#ifndef JARVIS_PLUGIN_NAME_H
#define JARVIS_PLUGIN_NAME_H

#define PLUGIN_NAME_MAX 32

/* [a-z0-9_]{1,32}: plugin and command names. */
int plugin_name_is_valid(const char *name);

#endif
