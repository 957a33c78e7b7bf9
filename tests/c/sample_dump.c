/*
 * sample_dump.c - llmos's sampler (src/infer/sample.c) on fixed logits, for
 * tests/py/check_sampler.py:
 *
 *     sample_dump TEMP TOP_K TOP_P MIN_P PENALTY LAST_N SEED DRAWS < in
 *
 * in: the vocabulary size V, V logits, the number of recent tokens R and
 * R ids (whitespace-separated). Prints one line of V probabilities
 * (sampler_probs: the distribution after the chain) and one line of V
 * counts: how often each token came from DRAWS calls of sampler_sample
 * with one seeded sampler, each on a fresh copy of the logits.
 */
#include "infer/sample.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: sample_dump TEMP TOP_K TOP_P MIN_P PENALTY LAST_N SEED DRAWS < logits\n");
        return 2;
    }
    sampler_params p = {.temperature = strtof(argv[1], NULL), .top_k = atoi(argv[2]),
                        .top_p = strtof(argv[3], NULL), .min_p = strtof(argv[4], NULL),
                        .repeat_penalty = strtof(argv[5], NULL), .repeat_last_n = atoi(argv[6]),
                        .seed = strtoull(argv[7], NULL, 10)};
    long draws = atol(argv[8]);
    int V, R;
    if (scanf("%d", &V) != 1 || V < 1) return 2;
    float *logits = malloc(sizeof(float) * V), *work = malloc(sizeof(float) * V);
    float *probs = malloc(sizeof(float) * V);
    long *count = calloc(V, sizeof(long));
    for (int i = 0; i < V; i++)
        if (scanf("%f", &logits[i]) != 1) return 2;
    if (scanf("%d", &R) != 1 || R < 0) return 2;
    int *recent = malloc(sizeof(int) * (R ? R : 1));
    for (int i = 0; i < R; i++)
        if (scanf("%d", &recent[i]) != 1) return 2;
    sampler *s = sampler_new(&p, V);
    for (int i = 0; i < V; i++) work[i] = logits[i];
    sampler_probs(s, work, recent, R, probs);
    for (int i = 0; i < V; i++) printf("%.9g%c", probs[i], i + 1 < V ? ' ' : '\n');
    for (long d = 0; d < draws; d++) {
        for (int i = 0; i < V; i++) work[i] = logits[i];
        int t = sampler_sample(s, work, recent, R);
        if (t < 0 || t >= V) {
            fprintf(stderr, "sampler_sample returned %d (vocabulary %d)\n", t, V);
            return 1;
        }
        count[t]++;
    }
    for (int i = 0; i < V; i++) printf("%ld%c", count[i], i + 1 < V ? ' ' : '\n');
    sampler_free(s);
    free(logits), free(work), free(probs), free(count), free(recent);
    return 0;
}
