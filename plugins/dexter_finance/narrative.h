/* The check a Grok-written summary must pass before it is shown: every
 * number in it appears in the computed facts (within the rounding it was
 * written with) and its direction agrees with the verdict. Pure text work. */
#ifndef DEXTER_NARRATIVE_H
#define DEXTER_NARRATIVE_H

#include <stddef.h>

/* 0 when narrative may be shown; -1 with a one-line reason in why
 * ("number 250 is not in the facts", "says bearish, verdict bullish"). */
int dexter_narrative_check(const char *narrative, const char *facts, const char *verdict_label,
                           char *why, size_t why_length);

#endif
