/*
 * sample.c - token sampling (see sample.h).
 */
#include "sample.h"

#include "../core/common.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

struct sampler {
    sampler_params p;
    int n_vocab;
    uint64_t rng;
    struct cand { float logit, prob; int id; } *cands;
};

sampler_params sampler_defaults(void) {
    return (sampler_params){.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                            .repeat_penalty = 1.0f, .repeat_last_n = 64,
                            .seed = (uint64_t)time(NULL)};
}

sampler *sampler_new(const sampler_params *p, int n_vocab) {
    sampler *s = xcalloc(1, sizeof(*s));
    s->p = *p;
    s->n_vocab = n_vocab;
    s->rng = p->seed ^ 0x9E3779B97F4A7C15ull;
    s->cands = xmalloc(sizeof(*s->cands) * n_vocab);
    return s;
}

void sampler_free(sampler *s) {
    if (!s) return;
    free(s->cands);
    free(s);
}

/* xorshift64* */
static float rng_uniform(uint64_t *state) {
    uint64_t x = *state ? *state : 1;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *state = x;
    return (float)((x * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f;
}

int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int by_logit_desc(const void *a, const void *b) {
    const struct cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

/* Runs the chain on logits: leaves the kept candidates in s->cands, each
 * with its weight exp((logit - max) / T), puts their sum in *sum and
 * returns how many; 0 when the temperature asks for greedy decoding. */
static int filter(sampler *s, float *logits, const int *recent, int n_recent, float *sum) {
    const sampler_params *p = &s->p;
    const int V = s->n_vocab;
    if (p->repeat_penalty != 1.0f) {
        int from = n_recent > p->repeat_last_n ? n_recent - p->repeat_last_n : 0;
        for (int i = from; i < n_recent; i++) {
            int t = recent[i];
            if (t < 0 || t >= V) continue;
            /* each distinct token penalized once */
            int seen = 0;
            for (int j = from; j < i && !seen; j++) seen = recent[j] == t;
            if (seen) continue;
            logits[t] = logits[t] > 0 ? logits[t] / p->repeat_penalty : logits[t] * p->repeat_penalty;
        }
    }
    if (p->temperature <= 0) return 0;

    int n = V;
    if (p->top_k > 0 && p->top_k < V) {
        /* keep the k largest in a min-heap (root = smallest kept), then sort them */
        n = p->top_k;
        for (int i = 0; i < V; i++) {
            struct cand c = {logits[i], 0, i};
            if (i < n) {
                int j = i;
                s->cands[j] = c;
                while (j > 0 && by_logit_desc(&s->cands[(j - 1) / 2], &s->cands[j]) < 0) {
                    struct cand t = s->cands[j];
                    s->cands[j] = s->cands[(j - 1) / 2], s->cands[(j - 1) / 2] = t;
                    j = (j - 1) / 2;
                }
            } else if (by_logit_desc(&c, &s->cands[0]) < 0) {
                int j = 0;
                s->cands[0] = c;
                for (;;) { /* sift down: move the smaller child up */
                    int a = 2 * j + 1, b = a + 1, m = j;
                    if (a < n && by_logit_desc(&s->cands[a], &s->cands[m]) > 0) m = a;
                    if (b < n && by_logit_desc(&s->cands[b], &s->cands[m]) > 0) m = b;
                    if (m == j) break;
                    struct cand t = s->cands[j];
                    s->cands[j] = s->cands[m], s->cands[m] = t;
                    j = m;
                }
            }
        }
    } else
        for (int i = 0; i < V; i++) s->cands[i] = (struct cand){logits[i], 0, i};
    qsort(s->cands, n, sizeof(*s->cands), by_logit_desc);

    /* probabilities at temperature 1 for the top-p / min-p filters */
    float max = s->cands[0].logit, z = 0;
    for (int i = 0; i < n; i++) z += (s->cands[i].prob = expf(s->cands[i].logit - max));
    for (int i = 0; i < n; i++) s->cands[i].prob /= z;
    if (p->top_p < 1.0f) {
        float cum = 0;
        for (int i = 0; i < n; i++) {
            cum += s->cands[i].prob;
            if (cum >= p->top_p) { n = i + 1; break; }
        }
    }
    if (p->min_p > 0) {
        float floor = s->cands[0].prob * p->min_p;
        int keep = 1;
        while (keep < n && s->cands[keep].prob >= floor) keep++;
        n = keep;
    }
    *sum = 0;
    for (int i = 0; i < n; i++)
        *sum += (s->cands[i].prob = expf((s->cands[i].logit - max) / p->temperature));
    return n;
}

int sampler_sample(sampler *s, float *logits, const int *recent, int n_recent) {
    float sum;
    int n = filter(s, logits, recent, n_recent, &sum);
    if (!n) return argmax(logits, s->n_vocab);
    float r = rng_uniform(&s->rng) * sum, cum = 0;
    for (int i = 0; i < n; i++) {
        cum += s->cands[i].prob;
        if (r < cum) return s->cands[i].id;
    }
    return s->cands[n - 1].id;
}

void sampler_probs(sampler *s, float *logits, const int *recent, int n_recent, float *probs) {
    float sum;
    int n = filter(s, logits, recent, n_recent, &sum);
    for (int i = 0; i < s->n_vocab; i++) probs[i] = 0;
    if (!n) probs[argmax(logits, s->n_vocab)] = 1;
    for (int i = 0; i < n; i++) probs[s->cands[i].id] = s->cands[i].prob / sum;
}
