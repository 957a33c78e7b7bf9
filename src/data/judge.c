/*
 * judge.c - automatic labelers (see judge.h).
 */
#include "judge.h"

#include "../core/common.h"
#include "../infer/chat_eval.h"
#include "conv.h"
#include "prefs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *judge_kind_name(judge_kind k) {
    static const char *n[] = {"auto", "arith", "f1", "cmd"};
    return n[k];
}

static int parse_num(const char *s, double *x, const char **end) {
    const char *p = s;
    if (*p == '-' && isdigit((unsigned char)p[1])) p++;
    if (!isdigit((unsigned char)*p)) return 0;
    char *e;
    *x = strtod(s, &e);
    if (e > s && e[-1] == '.') e--; /* "19." ends a sentence */
    *end = e;
    return 1;
}

static const struct {
    const char *word;
    char op;
} g_ops[] = {{"multiplied by", '*'}, {"divided by", '/'}, {"plus", '+'}, {"minus", '-'},
             {"times", '*'},         {"+", '+'},          {"-", '-'},    {"*", '*'},
             {"x", '*'},             {"\xc3\x97", '*'},   {"/", '/'}};

int judge_arith_question(const char *text, double *result) {
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
            continue;
        double a, b;
        const char *q;
        if (!parse_num(p, &a, &q)) continue;
        while (*q == ' ') q++;
        for (size_t k = 0; k < ARRAY_LEN(g_ops); k++) {
            size_t n = strlen(g_ops[k].word);
            if (strncasecmp(q, g_ops[k].word, n)) continue;
            const char *r = q + n;
            while (*r == ' ') r++;
            const char *e;
            if (!parse_num(r, &b, &e)) continue;
            switch (g_ops[k].op) {
            case '+': *result = a + b; break;
            case '-': *result = a - b; break;
            case '*': *result = a * b; break;
            default:
                if (b == 0) return 0;
                *result = a / b;
            }
            return 1;
        }
    }
    return 0;
}

int judge_answer_number(const char *answer, double *x) {
    const char *eq = strrchr(answer, '=');
    const char *p = eq ? eq + 1 : answer;
    int found = 0;
    for (; *p; p++) {
        if (!(isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1])))) continue;
        if (p > answer && (isalnum((unsigned char)p[-1]) || p[-1] == '.' || p[-1] == ',')) continue;
        double v;
        const char *e;
        if (!parse_num(p, &v, &e)) continue;
        /* "1,234": thousands separators */
        char buf[64];
        size_t n = 0;
        const char *s = p;
        while (*s && n < sizeof buf - 1 && (isdigit((unsigned char)*s) || *s == '-' || *s == '.' ||
                                           (*s == ',' && isdigit((unsigned char)s[1]))))
            if (*s != ',') buf[n++] = *s++;
            else s++;
        buf[n] = 0;
        if (n && buf[n - 1] == '.') buf[n - 1] = 0;
        v = strtod(buf, NULL);
        *x = v, found = 1;
        p = s - 1;
        if (eq) break; /* the first number after "=" */
    }
    return found;
}

static int run_cmd(const char *cmd, const chat_msg *prompt, int n_prompt, const char *answer,
                   const char *reference, double *score) {
    char path[] = "/tmp/llmos_judge_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return err_set("judge: cannot make a temporary file: %s", strerror(errno));
    conv_buf b = {0};
    conv_buf_puts(&b, "{\"prompt\": [");
    for (int i = 0; i < n_prompt; i++) {
        conv_buf_puts(&b, i ? ", {\"role\": \"" : "{\"role\": \"");
        conv_buf_puts(&b, chat_role_name(prompt[i].role));
        conv_buf_puts(&b, "\", \"content\": ");
        pref_json_str(&b, prompt[i].content, 1);
        conv_buf_puts(&b, "}");
    }
    conv_buf_puts(&b, "], \"answer\": ");
    pref_json_str(&b, answer, 1);
    conv_buf_puts(&b, ", \"reference\": ");
    if (reference) pref_json_str(&b, reference, 1);
    else conv_buf_puts(&b, "null");
    conv_buf_puts(&b, "}\n");
    int ok = write(fd, b.s, b.n) == (ssize_t)b.n;
    close(fd);
    conv_buf_free(&b);
    if (!ok) {
        unlink(path);
        return err_set("judge: cannot write the temporary file");
    }
    size_t n = strlen(cmd) + strlen(path) + 16;
    char *line = xmalloc(n);
    snprintf(line, n, "(%s) < %s", cmd, path);
    FILE *f = popen(line, "r");
    free(line);
    if (!f) {
        unlink(path);
        return err_set("judge: cannot run '%s'", cmd);
    }
    char out[256] = {0};
    size_t got = fread(out, 1, sizeof out - 1, f);
    int st = pclose(f);
    unlink(path);
    out[got] = 0;
    char *e;
    errno = 0;
    double v = strtod(out, &e);
    while (*e && isspace((unsigned char)*e)) e++;
    if (st != 0) return err_set("judge command '%s' failed (status %d)", cmd, st);
    if (e == out || *e || errno || !isfinite(v))
        return err_set("judge command '%s' printed '%.40s', not one number", cmd, out);
    *score = v;
    return 0;
}

int judge_score(const judge *j, const chat_msg *prompt, int n_prompt, const char *answer,
                const char *reference, double *score, judge_kind *used) {
    judge_kind k = j->kind;
    const char *question = NULL;
    for (int i = n_prompt - 1; i >= 0 && !question; i--)
        if (prompt[i].role == CHAT_USER) question = prompt[i].content;
    double truth;
    int arith = question && judge_arith_question(question, &truth);
    if (k == JUDGE_AUTO) k = arith ? JUDGE_ARITH : JUDGE_F1;
    if (used) *used = k;
    if (k == JUDGE_ARITH) {
        if (!arith) return err_set("no arithmetic question in the prompt");
        double x;
        if (!judge_answer_number(answer, &x)) *score = -1;
        else *score = fabs(x - truth) <= 1e-6 * fmax(1, fabs(truth)) ? 1 : 0;
        return 0;
    }
    if (k == JUDGE_F1) {
        if (!reference) return err_set("the f1 judge needs a reference answer");
        *score = chat_eval_f1(answer, reference);
        return 0;
    }
    return run_cmd(j->cmd, prompt, n_prompt, answer, reference, score);
}
