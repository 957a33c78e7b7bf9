/*
 * judge.h - automatic labelers for answers that can be checked, so the
 * preference loop can run without people:
 *
 *   arith   the prompt holds one arithmetic question ("What is 37 + 45?",
 *           "12 times 3", "81 / 9 = ?"; + - * x / and the words plus,
 *           minus, times, multiplied by, divided by); the answer's number
 *           is its last number (after "=" when there is one); score 1 when
 *           it equals the true result, 0 when it is another number, -1 when
 *           the answer holds no number.
 *   f1      token F1 (SQuAD normalization, chat_eval.h) of the answer
 *           against the reference answer: dictionary definitions and facts
 *           from the conversations of `llmos data chats`.
 *   cmd     any other judge: an external command run by /bin/sh, given one
 *           JSON object on stdin,
 *             {"prompt": [{"role": "user", "content": "..."}],
 *              "answer": "...", "reference": "..." or null}
 *           that prints one number (higher is better) on stdout and exits
 *           0. Example: a Python script calling a bigger model.
 *
 * A judgement ranks the K candidates by score (equal scores tie).
 */
#ifndef LLMOS_JUDGE_H
#define LLMOS_JUDGE_H

#include "../tokenizer/chat.h"

typedef enum { JUDGE_AUTO, JUDGE_ARITH, JUDGE_F1, JUDGE_CMD } judge_kind;

/* Parses the arithmetic question in text: 1 with *result set, 0 when it
 * holds none. */
int judge_arith_question(const char *text, double *result);
/* The answer's number (see above): 1 with *x set, 0 when there is none. */
int judge_answer_number(const char *answer, double *x);

typedef struct {
    judge_kind kind;
    const char *cmd; /* JUDGE_CMD */
} judge;

/* Scores one answer. reference may be NULL (arith and cmd need none). For
 * JUDGE_AUTO: arith when the last user message is an arithmetic question,
 * else f1 (which needs a reference). The kind used goes to *used. 0, or
 * -1 with err_set (no reference for f1, a failing command). */
int judge_score(const judge *j, const chat_msg *prompt, int n_prompt, const char *answer,
                const char *reference, double *score, judge_kind *used);

const char *judge_kind_name(judge_kind k);

#endif
