/* The one place the release number lives: the CLI, metrics and status all
 * report it. */
#ifndef JARVIS_VERSION_H
#define JARVIS_VERSION_H

#define JARVIS_VERSION "0.1.0"

#endif
