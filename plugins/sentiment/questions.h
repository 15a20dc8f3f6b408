/* Telling a question from an opinion, so the chat watcher records only
 * opinions: "Is SOL bullish right now?" says nothing about what the asker
 * thinks of SOL. The rule is in docs/sentiment.md ("Questions"). */
#ifndef SENTIMENT_QUESTIONS_H
#define SENTIMENT_QUESTIONS_H

/* 1 when text is a question: its last sentence ends with '?' (trailing
 * spaces, emoji, closing quotes and brackets ignored; "?!" counts), or
 * addressed_to_bot is set and its first word is an interrogative ("what",
 * "how", "is", "should", ...; "what a ..." and "do not ..." are not). */
int sentiment_is_question(const char *text, int addressed_to_bot);

#endif
