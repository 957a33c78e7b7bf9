/*
 * test_judge.c - the arithmetic checker of the automatic labeler: questions
 * in the forms people and datasets write them, and answers with the number
 * in different places, against hand-computed results.
 */
#include "data/judge.h"

#include <math.h>
#include <stdio.h>

int main(void) {
    static const struct {
        const char *q;
        int ok;
        double v;
    } qs[] = {
        {"What is 37 + 45?", 1, 82},          {"what is 12 times 3", 1, 36},
        {"Compute 81 / 9 = ?", 1, 9},         {"What is 7 multiplied by 8?", 1, 56},
        {"How much is 100 minus 58?", 1, 42}, {"What is 6 x 7?", 1, 42},
        {"What is 3 - -4?", 1, 7},            {"What is 2.5 * 4?", 1, 10},
        {"What is 9 divided by 0?", 0, 0},    {"What does 'zebra' mean?", 0, 0},
        {"In 1969 people landed on the moon.", 0, 0},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double r = 0;
        int ok = judge_arith_question(qs[i].q, &r);
        if (ok != qs[i].ok || (ok && fabs(r - qs[i].v) > 1e-9)) {
            fprintf(stderr, "question '%s': got %d %g\n", qs[i].q, ok, r);
            fails++;
        }
    }
    static const struct {
        const char *a;
        int ok;
        double v;
    } as[] = {
        {"37 + 45 = 82.", 1, 82},          {"The answer is 82", 1, 82},
        {"It is 1,234 exactly.", 1, 1234}, {"I think it is -3.", 1, -3},
        {"no idea", 0, 0},                 {"12 + 7 = 19, I believe 20", 1, 19},
        {"x2 is 5", 1, 5},
    };
    for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
        double x = 0;
        int ok = judge_answer_number(as[i].a, &x);
        if (ok != as[i].ok || (ok && fabs(x - as[i].v) > 1e-9)) {
            fprintf(stderr, "answer '%s': got %d %g\n", as[i].a, ok, x);
            fails++;
        }
    }
    judge j = {JUDGE_AUTO, NULL};
    chat_msg p = {CHAT_USER, "What is 37 + 45?"};
    double s;
    judge_kind used;
    if (judge_score(&j, &p, 1, "It is 82.", NULL, &s, &used) || s != 1 || used != JUDGE_ARITH) fails++;
    if (judge_score(&j, &p, 1, "It is 83.", NULL, &s, &used) || s != 0) fails++;
    if (judge_score(&j, &p, 1, "No clue.", NULL, &s, &used) || s != -1) fails++;
    chat_msg p2 = {CHAT_USER, "What does zebra mean?"};
    if (judge_score(&j, &p2, 1, "A striped horse.", "A zebra is an African horse with stripes.", &s,
                    &used) || used != JUDGE_F1 || !(s > 0.2 && s < 0.7))
        fails++;
    if (judge_score(&j, &p2, 1, "x", NULL, &s, &used) == 0) fails++; /* f1 needs a reference */
    return fails ? 1 : 0;
}
