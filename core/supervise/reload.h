/* Hot reload: on SIGHUP a thread reopens the log, re-reads plugins.ini and
 * brings the running plugins in line with it while updates wait queued
 * (docs/reload.md has the rules). */
#ifndef JARVIS_RELOAD_H
#define JARVIS_RELOAD_H

#include <stdio.h>

struct config;
struct host;
struct reloader;
struct sched;

/* Starts the thread that waits for SIGHUP; NULL when it cannot start. */
struct reloader *reload_start(struct host *host, struct sched *sched);
/* Joins the thread (a reload in progress finishes first). */
void reload_stop(struct reloader *reloader);
/* Frees the configurations reloads adopted: after everything that may
 * still read host->config (plugins unloaded, registry destroyed). */
void reload_destroy(struct reloader *reloader);

#endif
