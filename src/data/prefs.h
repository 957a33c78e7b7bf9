/*
 * prefs.h - preference data: the judgement store that `llmos label` and the
 * automatic labelers append to, the common exchange formats, and the merge
 * of several labelers' rankings into training pairs with agreement figures.
 *
 * The store is JSONL, one judgement per line, keys always in this order:
 *
 *   {"labeler": "alice", "time": "2026-11-28T18:30:00Z", "model": "chat.gguf",
 *    "prompt": [{"role": "user", "content": "..."}],
 *    "candidates": ["answer 1", "answer 2", ...], "ranks": [2, 1, ...],
 *    "flags": ["unsafe"], "ideal": "...", "source": {"format": "hh", "line": "..."}}
 *
 * ranks[i] is the rank of candidates[i]: 1 is best, equal ranks are ties,
 * 0 means "not ranked" (a pick-the-better-of-two judgement ranks only two
 * of the K candidates). flags holds "skip", "unsafe", "spam" (a skipped or
 * flagged judgement gives no pairs). ideal (optional) is the answer the
 * labeler wrote. source (optional) keeps the original line of an imported
 * record so that exporting it in the same format gives the same bytes.
 *
 * Atomic appends: the lines are built first and written on an O_APPEND
 * descriptor under an exclusive flock, then fsync'd; when a write or the
 * fsync fails (a full disk) the file is cut back to its size before, so an
 * append adds all its lines or none. A writer killed with SIGKILL in the
 * middle of a large write can leave a torn last line (Linux stops copying a
 * write at a fatal signal); the next appender cuts it off (a last line that
 * is complete JSON only lacks its '\n' and gets one), so a torn line is
 * only ever the last one.
 *
 * The rule for every reader of these JSONL files (the store, the exchange
 * formats, conversation files; conv.h's jsonl_* helpers): a last line without '\n' that does not
 * parse is torn, reported with a warning and skipped; a line that does not
 * parse anywhere else is damage, an error naming the file and the line.
 *
 * Exchange formats (each one JSON object per line):
 *   pairs   {"prompt": "...", "chosen": "...", "rejected": "..."} (plain), or
 *           with message lists: "prompt": [{"role": "user", ...}], "chosen":
 *           [{"role": "assistant", "content": "..."}], "rejected": [...]
 *   hh      Anthropic HH-RLHF: {"chosen": "\n\nHuman: q\n\nAssistant: a",
 *           "rejected": "\n\nHuman: q\n\nAssistant: b"}; the turns before the
 *           last assistant turn are the prompt and must be equal in both.
 *   ranked  {"prompt": "..." or [...], "candidates": ["a", "b", "c"],
 *           "ranks": [2, 1, 3]}
 * Our writer formats like Python's json.dumps (", " and ": " separators,
 * non-ASCII as \uXXXX escapes unless ascii is 0), so files made by the
 * common Python tools round-trip byte for byte even without the source
 * line; with it, any input does.
 *
 * Ownership: a pref_rec owns all its strings (pref_rec_free); a pref_list
 * owns its records, a pref_pairs its pairs.
 */
#ifndef LLMOS_PREFS_H
#define LLMOS_PREFS_H

#include <stddef.h>
#include <stdio.h>

#include "../tokenizer/chat.h"
#include "conv.h"

enum { PREF_SKIP = 1, PREF_UNSAFE = 2, PREF_SPAM = 4 };

typedef enum { PREF_FMT_STORE, PREF_FMT_PAIRS, PREF_FMT_HH, PREF_FMT_RANKED } pref_format;

typedef struct {
    char *labeler, *time, *model;
    chat_msg *prompt; /* the conversation the candidates answer (contents owned) */
    int n_prompt;
    char **cand;      /* (n_cand) */
    int *rank;        /* (n_cand) 1 = best, 0 = not ranked */
    int n_cand;
    unsigned flags;
    char *ideal;      /* or NULL */
    char *src_format; /* or NULL: the format of the original line */
    char *src_line;   /* the original line, without '\n' */
} pref_rec;

void pref_rec_free(pref_rec *r);
/* Fills the current UTC time "YYYY-MM-DDTHH:MM:SSZ" (buf of 24 bytes). */
void pref_time_now(char *buf);

/* The store line of r (with '\n') appended to out. */
void pref_rec_to_json(const pref_rec *r, conv_buf *out);
/* Parses one store line. -1 with err_set when it is not a valid record. */
int pref_rec_parse(const char *line, size_t len, pref_rec *r);

/* Appends r to the store at path atomically (see the top). 0 or -1. */
int pref_store_append(const char *path, const pref_rec *r);
/* The same for several complete store lines at once (one write()). */
int pref_store_append_lines(const char *path, const char *lines, size_t len);

typedef struct {
    pref_rec *items;
    size_t n, cap;
    size_t n_bad; /* torn last lines skipped (with a warning) */
} pref_list;

/* Reads a store (appending to l). A torn last line is skipped with a
 * warning (counted in n_bad); any other line that is not a valid record is
 * an error ("PATH:LINE: not a judgement: ..."), as is a file that cannot be
 * read. A missing file is an error unless missing_ok. */
int pref_store_read(const char *path, pref_list *l, int missing_ok);
void pref_list_free(pref_list *l);


/* "store", "pairs", "hh", "ranked" -> format, or -1. */
int pref_format_parse(const char *name);
const char *pref_format_name(pref_format f);

/* Parses one line of an exchange format into a record (labeler, time and
 * model left NULL; the source line kept). -1 with err_set. */
int pref_import_line(pref_format f, const char *line, size_t len, pref_rec *r);
/* Converts the lines of a file in format f (data, len bytes, read from
 * path) into store lines appended to out, with labeler, time and model
 * (store lines keep their own); *n_rec counts them. Lines must be valid
 * UTF-8; a torn last line is skipped (the rule at the top). -1 with err_set
 * "PATH:LINE: ..." at the first bad line. */
int pref_import_file(pref_format f, const char *path, const char *data, size_t len, const char *labeler,
                     const char *time, const char *model, conv_buf *out, size_t *n_rec);
/* Writes r in format f: pairs and hh give one line per ordered pair of
 * ranked candidates (best first, then by index), ranked one line, store
 * its own line. The source line is used when its format is f and raw is
 * set. conversational forces message lists in pairs/ranked (otherwise a
 * prompt of one user message is written as a plain string). Returns the
 * number of lines written. */
int pref_export_rec(pref_format f, const pref_rec *r, int raw, int conversational, int ascii,
                    conv_buf *out);

/* JSON string literal like Python's json.dumps (ascii: ensure_ascii). */
void pref_json_str(conv_buf *b, const char *s, int ascii);

/* A training pair. */
typedef struct {
    chat_msg *prompt; /* contents owned */
    int n_prompt;
    char *chosen, *rejected;
} pref_pair;

typedef struct {
    pref_pair *items;
    size_t n, cap;
} pref_pairs;

void pref_pairs_free(pref_pairs *p);
/* Every pair a record gives (as pref_export_rec orders them); skipped and
 * flagged records give none. */
void pref_pairs_from_rec(pref_pairs *p, const pref_rec *r);
/* Reads pairs from a file in any format, detected per line (store records,
 * pairs, hh, ranked). Errors name the file and line; a torn last line is
 * skipped with a warning (the rule at the top). */
int pref_pairs_read(const char *path, pref_pairs *p);

/* Agreement between labelers who ranked the same prompt. */
typedef struct {
    size_t n_prompts, n_multi;   /* prompts; prompts judged by two or more labelers */
    size_t n_comparisons;        /* (labeler pair, candidate pair) both ordered */
    size_t n_agree;
    double rate, kappa;          /* NaN when there is nothing to compare */
} pref_agreement;

/* Merges the records by prompt: every candidate pair's votes over all
 * labelers, the majority pair (ties give none) into out, Bradley-Terry
 * strengths per prompt (MM iterations with a 0.1-win prior each way) into
 * ranked (a "ranked" line with "scores" per prompt, when not NULL), and
 * the agreement figures. */
void pref_merge(const pref_list *l, pref_pairs *out, FILE *ranked, pref_agreement *ag);

/* Bradley-Terry strengths of n items from wins[i*n+j] (i beat j), by
 * Hunter's MM algorithm with prior pseudo-wins each way for every pair;
 * normalized to mean log-strength 0. Returns iterations used. */
int pref_bradley_terry(const double *wins, int n, double prior, double *score);

#endif
