/* A PostgreSQL DSN's password kept out of every line jarvis writes: the
 * password of a conninfo string (password=...) or a URI
 * (postgresql://user:secret@host, ?password=...) is replaced by ***, in
 * the DSN itself and in messages (libpq's) that may echo parts of it. */
#ifndef JARVIS_DSN_REDACT_H
#define JARVIS_DSN_REDACT_H

#include <stddef.h>

/* text with every password value in it masked, into out (cut to fit,
 * always NUL-terminated). */
void dsn_redact(const char *text, char *out, size_t out_size);
/* A libpq message as one safe line: the patterns above masked, every
 * occurrence of secret (the parsed password; NULL or "" for none) masked,
 * newlines folded into spaces, trailing space dropped. */
void dsn_redact_message(const char *message, const char *secret, char *out, size_t out_size);
/* For messages about a DSN that libpq could not parse: as
 * dsn_redact_message, and every "quoted" fragment (libpq quotes the piece
 * of the DSN it choked on, which may be part of a password) is dropped. */
void dsn_redact_parse_error(const char *message, char *out, size_t out_size);

#endif
