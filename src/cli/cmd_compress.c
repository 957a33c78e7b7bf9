/*
 * cmd_compress.c - `llmos compress MODEL IN OUT` and `llmos decompress
 * MODEL IN OUT` (- for stdin or stdout): the model as the probability
 * model of a range coder (src/infer/compress.h); `llmos compress --bench
 * MODEL FILE` sets it beside its ideal and beside xz, zstd and zpaq
 * (src/infer/compress_bench.h). OUT is written aside and renamed, so a
 * failure leaves no file.
 */
#include "cli.h"

#include "../core/common.h"
#include "../infer/compress_bench.h"

#include <stdlib.h>
#include <string.h>

static void on_progress(void *arg, size_t done, size_t total) {
    const double *t0 = arg, secs = time_now() - *t0;
    fprintf(stderr, "\r%5.1f%%  %zu of %zu bytes  %.1f KB/s   ", total ? 100.0 * done / total : 100.0, done, total,
            secs > 0 ? done / secs / 1000 : 0.0);
}

static void usage(const char *cmd) {
    if (!strcmp(cmd, "compress"))
        printf("usage: llmos compress MODEL.gguf IN OUT [-t N] [--ctx N] [--chunk SIZE] [-q]\n"
               "       llmos compress MODEL.gguf FILE --bench [--json]\n"
               "  IN, OUT     files, or - for stdin / stdout; OUT is written only when all went well\n"
               "  -t N        chunks coded at once (default: the number of CPUs)\n"
               "  --ctx N     context in tokens (default: the model's, at most %d)\n"
               "  --chunk S   bytes per independently coded chunk (default %dK; 64K, 1M, ...)\n"
               "  --bench     the coded size beside the model's ideal, xz -9, zstd -19 and zpaq -m5, and KB/s\n"
               "  -q          no progress or summary on stderr\n"
               "The same MODEL file decompresses it (llmos decompress), on any machine and thread count.\n"
               "example: llmos compress out/base.gguf out/val.txt out/val.llmz\n",
               COMPRESS_CTX_DEFAULT_MAX, COMPRESS_CHUNK_DEFAULT >> 10);
    else
        printf("usage: llmos decompress MODEL.gguf IN OUT [-t N] [-q]\n"
               "  IN, OUT     files, or - for stdin / stdout; OUT is written only when all went well\n"
               "  -t N        chunks decoded at once (default: the number of CPUs)\n"
               "  MODEL must be the file that compressed IN (its SHA-256 is in IN's header)\n"
               "example: llmos decompress out/base.gguf out/val.llmz out/val.txt\n");
}

static void print_bench(const char *file, const compress_bench_result *r, int json) {
    const double n = (double)r->in_bytes, ideal = r->st.ideal_bits / 8;
    const double bpb = n ? 8 * r->out_bytes / n : 0, ideal_bpb = n ? r->st.ideal_bits / n : 0;
#define KBPS(bytes, secs) ((secs) > 0 ? (bytes) / (secs) / 1000 : 0.0)
    if (json) {
        printf("{\"bytes\": %zu, \"tokens\": %zu, \"ctx\": %d, \"chunks\": %zu, \"llmos\": {\"bytes\": %zu, "
               "\"header_bytes\": %zu, \"ideal_bytes\": %.1f, \"bits_per_byte\": %.4f, \"ideal_bits_per_byte\": %.4f, "
               "\"compress_kbps\": %.2f, \"decompress_kbps\": %.2f, \"compress_kbps_cpu\": %.2f, "
               "\"decompress_kbps_cpu\": %.2f}",
               r->in_bytes, r->st.tokens, r->st.ctx, r->st.chunks, r->out_bytes, r->st.header_bytes, ideal, bpb,
               ideal_bpb, KBPS(n, r->enc_s), KBPS(n, r->dec_s), KBPS(n, r->enc_cpu), KBPS(n, r->dec_cpu));
        for (int k = 0; k < COMPRESS_BENCH_PEERS; k++) {
            const compress_peer *p = &r->peers[k];
            if (p->ok)
                printf(", \"%.*s\": {\"bytes\": %zu, \"bits_per_byte\": %.4f, \"compress_kbps\": %.1f, "
                       "\"decompress_kbps\": %.1f, \"compress_kbps_cpu\": %.1f, \"decompress_kbps_cpu\": %.1f}",
                       (int)strcspn(p->name, " "), p->name, p->bytes, 8 * p->bytes / n, KBPS(n, p->enc_s),
                       KBPS(n, p->dec_s), KBPS(n, p->enc_cpu), KBPS(n, p->dec_cpu));
        }
        printf("}\n");
        return;
    }
    printf("%s: %zu bytes, %zu tokens (context %d, %zu chunk%s, dot products: %s)\n", file, r->in_bytes,
           r->st.tokens, r->st.ctx, r->st.chunks, r->st.chunks == 1 ? "" : "s", r->st.path);
    printf("%-28s %10s %9s  %s\n", "", "", "", "KB/s: compress   decompress");
    printf("%-28s %10s %9s  %8s %7s %8s %7s\n", "", "bytes", "bits/byte", "wall", "CPU", "wall", "CPU");
    printf("%-28s %10zu %9.4f  %8.2f %7.2f %8.2f %7.2f\n", "llmos compress (the model)", r->out_bytes, bpb,
           KBPS(n, r->enc_s), KBPS(n, r->enc_cpu), KBPS(n, r->dec_s), KBPS(n, r->dec_cpu));
    printf("%-28s %10.1f %9.4f  (header %zu bytes; coded %+.3f%% of the ideal)\n", "the model's ideal (-log2 p)",
           ideal, ideal_bpb, r->st.header_bytes,
           ideal > 0 ? 100.0 * ((double)(r->out_bytes - r->st.header_bytes) - ideal) / ideal : 0.0);
    for (int k = 0; k < COMPRESS_BENCH_PEERS; k++) {
        const compress_peer *p = &r->peers[k];
        if (p->ok)
            printf("%-28s %10zu %9.4f  %8.1f %7.1f %8.1f %7.1f\n", p->name, p->bytes, 8 * p->bytes / n,
                   KBPS(n, p->enc_s), KBPS(n, p->enc_cpu), KBPS(n, p->dec_s), KBPS(n, p->dec_cpu));
        else
            printf("%-28s %s\n", p->name, p->why);
    }
    printf("(KB/s per wall-clock second and per CPU second of all threads; 1 KB = 1000 bytes)\n");
#undef KBPS
}

static int run(const char *cmd, int argc, char **argv) {
    const int enc = !strcmp(cmd, "compress");
    const char *pos[3] = {0}, *v;
    int np = 0, bench = 0, json = 0, quiet = 0;
    long threads = cli_default_threads(), ctx = 0;
    double chunk = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) return usage(cmd), 0;
        if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 1, 1024, &threads)) return cli_error(NULL), 2;
        } else if (enc && !strcmp(a, "--ctx")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 2, 1 << 20, &ctx)) return cli_error(NULL), 2;
        } else if (enc && !strcmp(a, "--chunk")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_count(a, v, &chunk)) return cli_error(NULL), 2;
            if (chunk < 1 || chunk > 1e12) return cli_error("compress: --chunk %s is out of range", v), 2;
        } else if (enc && !strcmp(a, "--bench")) bench = 1;
        else if (enc && !strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option(cmd, a);
        else if (np < 3) pos[np++] = a;
        else return cli_bad_option(cmd, a);
    }
    if (np != (bench ? 2 : 3))
        return cli_error("%s: need MODEL, IN%s (see llmos %s --help)", cmd, bench ? "" : " and OUT", cmd), 2;
    const char *in_name = strcmp(pos[1], "-") ? pos[1] : "stdin";
    size_t len;
    char *in = file_read_all(strcmp(pos[1], "-") ? pos[1] : "/dev/stdin", &len);
    if (!in) return cli_error(NULL);
    model *m = model_load(pos[0]);
    if (!m) return free(in), cli_error(NULL);
    double t0 = time_now();
    const int show = !quiet && !bench && cli_progress_tty();
    compress_opts o = {.threads = (int)threads, .ctx = (int)ctx, .chunk = (size_t)chunk,
                       .progress = show ? on_progress : NULL, .progress_arg = &t0};
    int rc = 1;
    if (bench) {
        compress_bench_result r;
        if (compress_bench(m, (const uint8_t *)in, len, &o, &r))
            cli_error("compress: '%s' with '%s': %s", in_name, pos[0], err_msg());
        else print_bench(in_name, &r, json), rc = 0;
        goto done;
    }
    uint8_t *out = NULL;
    size_t out_len;
    compress_stats st;
    const int bad = enc ? compress_bytes(m, (const uint8_t *)in, len, &o, &out, &out_len, &st)
                        : decompress_bytes(m, (const uint8_t *)in, len, &o, &out, &out_len, &st);
    if (show) fputc('\n', stderr);
    if (bad) {
        if (enc) cli_error("compress: '%s' with '%s': %s", in_name, pos[0], err_msg());
        else cli_error("decompress: '%s': %s", in_name, err_msg());
        goto done;
    }
    const int to_stdout = !strcmp(pos[2], "-");
    if (to_stdout && (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout))) {
        cli_error("%s: cannot write to stdout", cmd);
    } else if (!to_stdout && file_write_atomic(pos[2], out, out_len)) {
        cli_error("%s: %s", cmd, err_msg());
    } else {
        rc = 0;
        const double secs = time_now() - t0, raw = (double)(enc ? len : out_len);
        if (!quiet)
            fprintf(stderr, "%s: %zu -> %zu bytes (%.4f bits per byte) in %.1f s, %.2f KB/s\n", cmd, len, out_len,
                    raw ? 8.0 * (enc ? out_len : len) / raw : 0.0, secs, raw / secs / 1000);
    }
    free(out);
done:
    model_free(m);
    free(in);
    return rc;
}

int cmd_compress(int argc, char **argv) { return run("compress", argc, argv); }
int cmd_decompress(int argc, char **argv) { return run("decompress", argc, argv); }
