/*
 * label.h - what the two front ends of `llmos label` share: the terminal
 * (cmd_label.c) and the web page (label_web.c). A label session holds the
 * prompts, the store as it was when the session began, and the candidate
 * sampler; a task is one prompt with its K sampled answers; saving a task
 * appends one judgement to the store (data/prefs.h: one write() under
 * flock) and, when the labeler wrote an ideal answer, the conversation to
 * the SFT file first. Both front ends therefore write the same records, and
 * the same prompt and --seed give the same candidates in both.
 *
 * Ownership: label_session owns its prompts, the store copy, the paths and
 * the model (label_session_close); the option strings stay the caller's
 * and must outlive the session. A label_task owns its candidates
 * (label_task_release) and borrows its conversation from the session.
 */
#ifndef LLMOS_LABEL_H
#define LLMOS_LABEL_H

#include <stddef.h>

#include "../data/conv.h"
#include "../data/prefs.h"
#include "../infer/candidates.h"

typedef struct {
    const char *model_path, *prompts_path, *store, *labeler;
    const char *instructions; /* the guideline file, or NULL: docs/labeling-instructions.md */
    const char *sft_out;      /* or NULL: STORE.sft.jsonl */
    int k, max_new, threads;
    long seed;
    double temp;
} label_options;

typedef struct {
    const label_options *o;
    char *instr_path;  /* NULL when no guideline was found */
    char *sft_path;
    conv_list prompts;
    pref_list done;    /* the store when the session began */
    cand_gen gen;
} label_session;

typedef struct {
    size_t index;      /* in s->prompts */
    const conv *conv;
    int n_prompt;      /* the prompt is conv->msgs[0..n_prompt): up to the first user turn */
    char **cand;       /* (k) */
    int k;
} label_task;

/* Reads the prompts and the store, finds the guideline and loads the
 * model. 0, or -1 with err_set (nothing to close). */
int label_session_open(label_session *s, const label_options *o);
void label_session_close(label_session *s);

/* The messages that make up prompt i (up to its first user turn), or 0
 * when the conversation has no user turn. */
int label_prompt_len(const label_session *s, size_t i);
/* 1 when this labeler had already judged prompt i when the session began
 * (a rank, skip or flag; an ideal answer alone does not count). */
int label_already_judged(const label_session *s, size_t i);

/* Samples the K answers of prompt i, reseeding from the prompt and --seed
 * so that every labeler and both front ends see the same ones. 0, or -1
 * with err_set (the prompt does not fit the context; nothing to release). */
int label_task_sample(label_session *s, size_t i, label_task *t);
void label_task_release(label_task *t);

/* Appends one judgement of t: ranks (k values, 1 best, 0 unranked), flags
 * (PREF_*), ideal (or NULL). With an ideal, the SFT conversation (prompt +
 * ideal as the assistant turn) is appended to s->sft_path first. 0, or -1
 * with err_set. */
int label_task_save(const label_session *s, const label_task *t, const int *ranks, unsigned flags,
                    const char *ideal);

/* The web front end: serves the labeling page on host:port (port 0: any
 * free port) until SIGINT or SIGTERM. Returns the exit status. */
int label_web_main(const label_options *o, const char *host, int port);
/* The page it serves (label_web_page.c). */
extern const char label_web_page[];

#endif
