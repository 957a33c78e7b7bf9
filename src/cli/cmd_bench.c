/*
 * cmd_bench.c - `llmos bench MODEL`: inference speed measured the way
 * llama.cpp's llama-bench measures it, so the two can stand side by side.
 * "pp P" runs a prompt of P random tokens as one batch; "tg N" runs N
 * single-token steps; both start from an empty context, only the model's
 * forward pass is timed (no sampling), and a warm-up run comes first so
 * that page faults and cold caches are not counted. Each test repeats R
 * times; the table gives the mean, standard deviation and best tokens/s.
 * With -d D (llama-bench's --n-depth) the context already holds D tokens
 * when each test starts, as in a long conversation: the cache is filled
 * once, untimed, and every run starts at position D.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/kernels.h"
#include "../core/types.h"
#include "../model/model.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const g_usage =
    "usage: llmos bench MODEL.gguf [-p N] [-n N] [-d N] [-t LIST] [-r N] [--cache-type T] [--csv]\n"
    "  -p N        prompt processing test: N tokens in one batch (default 128, 0 = skip)\n"
    "  -n N        generation test: N tokens one at a time (default 128, 0 = skip)\n"
    "  -d N        tokens already in the context when each test starts (default 0)\n"
    "  -t LIST     thread counts, comma-separated (default: all cores)\n"
    "  -r N        repetitions of each test (default 5)\n"
    "  --cache-type T\n              " CLI_CACHE_TYPE_HELP "\n"
    "  --csv       print file,type,threads,test,mean,sd,best,path,cpu lines (cpu:\n"
    "              tokens per second of process CPU time, all threads)\n"
    "Timing as llama-bench: random tokens, forward passes only,\n"
    "one warm-up run first. LLMOS_KERNELS=NAME picks a kernel path.\n"
    "example: llmos bench out/base-q8_0.gguf -p 128 -n 128 -t 1,2\n"
    "         llmos bench out/base-q8_0.gguf -p 0 -n 128 -d 1024   (generation deep in a chat)\n";

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One run of the test at positions pos .. pos+n-1; returns seconds. */
static double run_test(const model *m, model_state *s, const int *tokens, int n, int pos, int batch) {
    double t0 = time_now();
    if (batch) {
        if (!model_forward(m, s, tokens, n, pos, 0)) return -1;
    } else {
        for (int i = 0; i < n; i++)
            if (!model_forward(m, s, tokens + i, 1, pos + i, 0)) return -1;
    }
    return time_now() - t0;
}

static const char *weight_type(const model *m) {
    return m->cfg.n_layers > 0 ? type_name(m->layers[0].wq.type) : type_name(m->output.type);
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL, *threads_arg = NULL, *cache = NULL;
    long pp = 128, tg = 128, reps = 5, depth = 0;
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            fputs(g_usage, stdout);
            return 0;
        }
        if (!strcmp(a, "-p") || !strcmp(a, "-n") || !strcmp(a, "-r") || !strcmp(a, "-d")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            long *dst = a[1] == 'p' ? &pp : a[1] == 'n' ? &tg : a[1] == 'd' ? &depth : &reps;
            if (parse_long(a, v, a[1] == 'r' ? 1 : 0, 1 << 20, dst)) return cli_error(NULL), 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(threads_arg = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--cache-type")) {
            if (!(cache = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--csv")) csv = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("bench", a);
        else if (!path) path = a;
        else return cli_bad_option("bench", a);
    }
    if (!path) return cli_error("bench: missing MODEL (see llmos bench --help)"), 2;
    const int kv_type = cli_cache_type("bench", cache);
    if (kv_type < 0) return 2;

    int threads[64], n_threads = 0;
    if (threads_arg) {
        const char *p = threads_arg;
        while (*p) {
            char *end;
            long t = strtol(p, &end, 10);
            if (end == p || t < 1 || t > 1024 || n_threads == 64 || (*end && *end != ','))
                return cli_error("bench: -t wants thread counts like 1,2 (got '%s')", threads_arg), 2;
            threads[n_threads++] = (int)t;
            p = *end ? end + 1 : end;
        }
    } else threads[n_threads++] = cli_default_threads();

    model *m = model_load(path);
    if (!m) return cli_error(NULL);
    m->kv_type = kv_type;
    const int V = m->cfg.vocab_size;
    int ctx = (int)(depth + MAX(pp, tg));
    if (ctx < 1) ctx = 1;
    if (ctx > m->cfg.ctx_len) {
        cli_error("bench: %s: depth %ld and a test of %ld tokens exceed the model's context of %d",
                  path, depth, MAX(pp, tg), m->cfg.ctx_len);
        model_free(m);
        return 1;
    }
    int *tokens = xmalloc(sizeof(int) * ctx);
    unsigned seed = 42;
    for (int i = 0; i < ctx; i++) {
        seed = seed * 1103515245u + 12345u;
        tokens[i] = (int)((seed >> 8) % (unsigned)V);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!csv)
        printf("| %-28s | %-5s | %7s | %-13s | %16s | %9s |\n| %.28s | ----- | ------- | ------------- | ---------------- | --------- |\n",
               "model", "type", "threads", "test", "t/s", "best t/s",
               "----------------------------");
    int rc = 0;
    for (int ti = 0; ti < n_threads && !rc; ti++) {
        model_set_threads(threads[ti]);
        model_state *s = model_state_new(m, ctx, (int)MAX(MAX(pp, MIN(depth, 512)), 1));
        for (int p = 0; p < depth && !rc; p += 512) /* the context, in batches */
            if (!model_forward(m, s, tokens + MAX(pp, tg) + p, (int)MIN(512, depth - p), p, 0))
                rc = cli_error(NULL);
        for (int test = 0; test < 2 && !rc; test++) {
            int n = (int)(test == 0 ? pp : tg);
            if (n == 0) continue;
            double sum = 0, sum2 = 0, best = 0, cpu = 0;
            for (int r = -1; r < reps; r++) { /* r = -1 is the warm-up */
                double c0 = cpu_now();
                double dt = run_test(m, s, tokens, n, (int)depth, test == 0);
                if (r >= 0) cpu += cpu_now() - c0;
                if (dt < 0) {
                    rc = cli_error(NULL);
                    break;
                }
                if (r < 0) continue;
                double ts = n / dt;
                sum += ts, sum2 += ts * ts, best = MAX(best, ts);
            }
            if (rc) break;
            double mean = sum / reps, sd = reps > 1 ? sqrt(MAX(0, (sum2 - reps * mean * mean) / (reps - 1))) : 0;
            char name[40];
            if (depth) snprintf(name, sizeof(name), "%s%d @ d%ld", test == 0 ? "pp" : "tg", n, depth);
            else snprintf(name, sizeof(name), "%s%d", test == 0 ? "pp" : "tg", n);
            if (csv)
                printf("%s,%s,%d,%s,%.2f,%.2f,%.2f,%s,%.2f\n", base, weight_type(m), threads[ti], name, mean,
                       sd, best, kernels_path(), n * reps / cpu);
            else
                printf("| %-28s | %-5s | %7d | %-13s | %8.2f ± %5.2f | %9.2f |\n", base, weight_type(m),
                       threads[ti], name, mean, sd, best);
            fflush(stdout);
        }
        model_state_free(s);
    }
    if (!csv && !rc) printf("kernels: %s\n", kernels_path());
    free(tokens);
    model_free(m);
    return rc;
}
