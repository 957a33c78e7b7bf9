/*
 * label_task.c - the labeling session both front ends of `llmos label`
 * share (see label.h): prompts, the store as it was, the candidate sampler,
 * and the one way a judgement is written.
 */
#include "label.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The guideline: the given file, else docs/labeling-instructions.md in the
 * current folder or beside the executable. NULL when none is found. */
static char *find_instructions(const char *given) {
    if (given) return xstrdup(given);
    if (access("docs/labeling-instructions.md", R_OK) == 0) return xstrdup("docs/labeling-instructions.md");
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash, "/docs/labeling-instructions.md");
            if (access(exe, R_OK) == 0) return xstrdup(exe);
        }
    }
    return NULL;
}

int label_session_open(label_session *s, const label_options *o) {
    memset(s, 0, sizeof *s);
    s->o = o;
    if (o->instructions && access(o->instructions, R_OK) != 0)
        return err_set("cannot read instructions '%s'", o->instructions);
    s->instr_path = find_instructions(o->instructions);
    if (o->sft_out) s->sft_path = xstrdup(o->sft_out);
    else {
        size_t sl = strlen(o->store);
        s->sft_path = xmalloc(sl + 16);
        memcpy(s->sft_path, o->store, sl + 1);
        if (sl > 6 && !strcmp(o->store + sl - 6, ".jsonl")) s->sft_path[sl - 6] = 0;
        strcat(s->sft_path, ".sft.jsonl");
    }
    s->prompts.prompts = 1;
    if (conv_list_read(&s->prompts, o->prompts_path) || pref_store_read(o->store, &s->done, 1) < 0) goto fail;
    if (s->prompts.n == 0) {
        err_set("'%s': no prompts to label", o->prompts_path);
        goto fail;
    }
    model_set_threads(o->threads);
    if (cand_gen_open(&s->gen, o->model_path, (float)o->temp, (uint64_t)o->seed, o->max_new) < 0) goto fail;
    return 0;
fail:
    conv_list_free(&s->prompts);
    pref_list_free(&s->done);
    free(s->instr_path), free(s->sft_path);
    memset(s, 0, sizeof *s);
    return -1;
}

void label_session_close(label_session *s) {
    cand_gen_close(&s->gen);
    conv_list_free(&s->prompts);
    pref_list_free(&s->done);
    free(s->instr_path), free(s->sft_path);
    memset(s, 0, sizeof *s);
}

int label_prompt_len(const label_session *s, size_t i) {
    const conv *c = &s->prompts.items[i];
    for (int m = 0; m < c->n; m++)
        if (c->msgs[m].role == CHAT_USER) return m + 1;
    return 0;
}

int label_already_judged(const label_session *s, size_t i) {
    const conv *c = &s->prompts.items[i];
    int n = label_prompt_len(s, i);
    for (size_t d = 0; d < s->done.n; d++) {
        const pref_rec *r = &s->done.items[d];
        if (strcmp(r->labeler, s->o->labeler) || r->n_prompt != n) continue;
        int same = 1;
        for (int m = 0; m < n && same; m++)
            same = r->prompt[m].role == c->msgs[m].role && !strcmp(r->prompt[m].content, c->msgs[m].content);
        int judged = r->flags != 0;
        for (int m = 0; m < r->n_cand; m++) judged |= r->rank[m] != 0;
        if (same && judged) return 1;
    }
    return 0;
}

/* FNV-1a over the prompt's contents, started from --seed. */
static uint64_t prompt_seed(uint64_t seed, const chat_msg *m, int n) {
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + 0x6c6162656c;
    for (int i = 0; i < n; i++)
        for (const char *p = m[i].content; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

int label_task_sample(label_session *s, size_t i, label_task *t) {
    memset(t, 0, sizeof *t);
    t->index = i;
    t->conv = &s->prompts.items[i];
    t->n_prompt = label_prompt_len(s, i);
    t->k = s->o->k;
    if (!t->n_prompt) return err_set("%s:%zu: no user turn", s->o->prompts_path, t->conv->line);
    t->cand = xcalloc((size_t)t->k, sizeof *t->cand);
    cand_gen_reseed(&s->gen, prompt_seed((uint64_t)s->o->seed, t->conv->msgs, t->n_prompt));
    for (int m = 0; m < t->k; m++)
        if (!(t->cand[m] = cand_gen_sample(&s->gen, t->conv->msgs, t->n_prompt, NULL))) {
            label_task_release(t);
            return -1;
        }
    return 0;
}

void label_task_release(label_task *t) {
    if (t->cand)
        for (int m = 0; m < t->k; m++) free(t->cand[m]);
    free(t->cand);
    t->cand = NULL;
}

int label_task_save(const label_session *s, const label_task *t, const int *ranks, unsigned flags,
                    const char *ideal) {
    const conv *c = t->conv;
    if (ideal) {
        /* the SFT conversation: the prompt and the written answer */
        conv_buf sft = {0};
        conv_buf_puts(&sft, "{\"messages\": [");
        for (int m = 0; m <= t->n_prompt; m++) {
            conv_buf_puts(&sft, m ? ", {\"role\": " : "{\"role\": ");
            pref_json_str(&sft, m < t->n_prompt ? chat_role_name(c->msgs[m].role) : "assistant", 0);
            conv_buf_puts(&sft, ", \"content\": ");
            pref_json_str(&sft, m < t->n_prompt ? c->msgs[m].content : ideal, 0);
            conv_buf_puts(&sft, "}");
        }
        conv_buf_puts(&sft, "], \"labeler\": ");
        pref_json_str(&sft, s->o->labeler, 0);
        conv_buf_puts(&sft, "}\n");
        int rc = pref_store_append_lines(s->sft_path, sft.s, sft.n);
        conv_buf_free(&sft);
        if (rc < 0) return -1;
    }
    char now[24];
    pref_time_now(now);
    pref_rec r = {.labeler = (char *)s->o->labeler, .time = now, .model = (char *)s->o->model_path,
                  .prompt = c->msgs, .n_prompt = t->n_prompt, .cand = t->cand, .rank = (int *)ranks,
                  .n_cand = t->k, .flags = flags, .ideal = (char *)ideal};
    return pref_store_append(s->o->store, &r);
}
