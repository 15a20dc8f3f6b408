/* The console transport: one line per message on stdin, replies on stdout
 * (offline use and tests). */
#ifndef JARVIS_CONSOLE_H
#define JARVIS_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct transport;

struct transport *console_transport_create(void);

#endif
