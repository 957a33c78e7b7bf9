/*
 * sample.h - choosing the next token from logits: greedy, temperature,
 * top-k, top-p (nucleus), min-p and repetition penalty, with a seeded RNG
 * so a run can be repeated exactly. The order of the filters follows
 * llama.cpp's default chain: penalties, top-k, top-p, min-p, temperature.
 */
#ifndef LLMOS_SAMPLE_H
#define LLMOS_SAMPLE_H

#include <stdint.h>

typedef struct {
    float temperature;    /* 0 = greedy (argmax) */
    int top_k;            /* 0 = off */
    float top_p;          /* 1 = off */
    float min_p;          /* 0 = off */
    float repeat_penalty; /* 1 = off */
    int repeat_last_n;    /* how many recent tokens the penalty looks at */
    uint64_t seed;
} sampler_params;

/* llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05,
 * repeat penalty 1.0 over 64 tokens, seed from the clock. */
sampler_params sampler_defaults(void);

typedef struct sampler sampler;
/* The sampler keeps scratch for a vocabulary of n_vocab. */
sampler *sampler_new(const sampler_params *p, int n_vocab);
void sampler_free(sampler *s);
/* Picks a token. logits is modified (penalties, temperature). recent are
 * the last n_recent tokens of the sequence (for the repetition penalty). */
int sampler_sample(sampler *s, float *logits, const int *recent, int n_recent);
/* The distribution sampler_sample draws from, for one vocabulary of
 * logits: probs[n_vocab] gets each token's probability after the chain
 * (0 for the tokens it removed; greedy: 1 on the argmax). Draws no random
 * number; logits is modified as by sampler_sample. */
void sampler_probs(sampler *s, float *logits, const int *recent, int n_recent, float *probs);
/* Index of the largest value (first on ties). */
int argmax(const float *x, int n);

#endif
