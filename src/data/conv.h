/*
 * conv.h - conversation files: JSONL with one conversation per line, in the
 * form most chat datasets use,
 *
 *   {"messages": [{"role": "user", "content": "..."},
 *                 {"role": "assistant", "content": "..."}]}
 *
 * Other fields (here or in messages) are ignored. Blank lines are skipped;
 * a torn last line (no '\n', not valid: a killed writer's) is skipped with
 * a warning.
 * A conversation is valid when: messages is a non-empty array; each message
 * is an object with a known role (system, user, assistant, tool) and a
 * string content that is not empty or only whitespace; a system message
 * comes only first; and at least one assistant message is present (there
 * is nothing to learn otherwise). Errors name the file, the line and the
 * message: "chats.jsonl:12: message 3 has unknown role 'bot' (expected
 * system, user, assistant or tool)".
 *
 * Ownership: a conv_list owns every conversation and string in it
 * (conv_list_free). conv_write copies nothing.
 */
#ifndef LLMOS_CONV_H
#define LLMOS_CONV_H

#include <stddef.h>
#include <stdio.h>

#include "../tokenizer/chat.h"

typedef struct {
    chat_msg *msgs; /* content strings owned by the conversation */
    int n;
    size_t line;    /* 1-based line in its file */
} conv;

typedef struct {
    conv *items;
    size_t n, cap;
    char *path;     /* the file read, for messages */
    int prompts;    /* set before reading: accept conversations without an
                       assistant message (prompts to answer, not to learn) */
} conv_list;

/* Parses one JSON object into c (strings copied). -1 with err_set (no file
 * or line prefix) when it is not a valid conversation. With prompts, a
 * conversation without an assistant message is valid. */
int conv_parse(const char *json, size_t len, conv *c, int prompts);
void conv_free(conv *c);

/* Reads every conversation of a JSONL file into l (appending). Stops at the
 * first invalid line: -1 with err_set "PATH:LINE: problem". */
int conv_list_read(conv_list *l, const char *path);
void conv_list_free(conv_list *l);

/* A conversation read as a question to answer (prefs auto, rl, best-of):
 * returns the index of its first user turn (-1 when it has none), and in
 * *reference the assistant turn right after it (NULL when there is none),
 * the answer judges compare with. */
int conv_question(const conv *c, const char **reference);

/* Writes one conversation as a JSONL line; extra, when not NULL, is a
 * string of additional members ("\"source\": \"wordnet\"") inserted after
 * messages. Returns 0, or -1 on a write error. */
int conv_write(FILE *f, const chat_msg *m, int n, const char *extra);

/* The reading rule for JSONL files that writers append to (prefs.h tells
 * why): a last line without '\n' that is not complete JSON is torn, skipped
 * with a warning; a bad line anywhere else is an error. For readers:
 * jsonl_blank says whether a line is only white space; jsonl_complete
 * whether it is one complete JSON value; jsonl_torn, for a line that was
 * not accepted, warns and returns 1 when it is a torn last line (has_nl:
 * a '\n' ends it), 0 otherwise; jsonl_error sets "PATH:LINE: what:
 * <err_msg()>" (what may be NULL) and returns -1. */
int jsonl_blank(const char *s, size_t n);
int jsonl_complete(const char *s, size_t n);
int jsonl_torn(const char *path, size_t line, const char *s, size_t n, int has_nl);
int jsonl_error(const char *path, size_t line, const char *what);

/* Appends s to a JSON string literal (quotes included) in a growing
 * buffer: for writers that build JSON lines by hand. */
typedef struct {
    char *s;
    size_t n, cap;
} conv_buf;
void conv_buf_puts(conv_buf *b, const char *s);
void conv_buf_json_str(conv_buf *b, const char *s);
void conv_buf_free(conv_buf *b);

#endif
