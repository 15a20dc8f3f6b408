/* Which tokens /grok may spend a paid call on: those the token.registry
 * service knows, or, when it is absent, a small built-in list of well-known
 * symbols; names and cashtags ("solana", "$sol") map to the symbol. */
#ifndef GROK_TOKENS_H
#define GROK_TOKENS_H

#include <stddef.h>

#include <jarvis/svc/token_registry.h>

/* 1 and the upper-case symbol in out when text names a known token. The
 * registry may be NULL (the built-in list is used). */
int grok_token_resolve(const jv_token_registry_api *registry, const char *text, char *out,
                       size_t out_length);

#endif
