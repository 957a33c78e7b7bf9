/*
 * main.c - `llmos <command> [options]`: the dispatch table. Each command
 * lives in src/cli/cmd_<name>.c. The order below follows the pipeline:
 * inspect a file, tokenize, build data, train, run.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/dist.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_command g_commands[] = {
    {"info", cmd_info, "show a GGUF file: architecture, parameters, size, tokenizer"},
    {"tokenize", cmd_tokenize, "show the token ids and pieces of a text"},
    {"tokenizer", cmd_tokenizer, "train, import and inspect tokenizers"},
    {"quantize", cmd_quantize, "convert a model to f32, f16, bf16, q8_0 or q4_0"},
    {"generate", cmd_generate, "generate text from a prompt"},
    {"logits", cmd_logits, "print the logits of a token sequence as JSON"},
    {"perplexity", cmd_perplexity, "perplexity and bits per byte of a text file"},
    {"compress", cmd_compress, "compress a file with the model as the probability model (--bench: beside xz, zstd, zpaq)"},
    {"decompress", cmd_decompress, "decompress what llmos compress made, with the same model"},
    {"bench", cmd_bench, "inference speed: prompt processing and generation tok/s, as llama-bench"},
    {"data", cmd_data, "build a corpus, show its statistics, tokenize it into shards"},
    {"pretrain", cmd_pretrain, "train a base model from token shards (AdamW, checkpoints, resume)"},
    {"scaling", cmd_scaling, "scaling laws: sweep small runs, fit L(N, D), predict a bigger run"},
    {"sft", cmd_sft, "fine-tune a model on conversations into an assistant"},
    {"chat", cmd_chat, "talk to an assistant model in the terminal (or answer one -p question)"},
    {"eval", cmd_eval, "base versus assistant on held-out questions: answer form, token F1"},
    {"serve", cmd_serve, "serve a model over the OpenAI HTTP API, with a chat page"},
    {"label", cmd_label, "rank a chat model's answers in the terminal or a web page (preference data for DPO)"},
    {"dpo", cmd_dpo, "preference tuning (DPO) of a chat model on chosen/rejected pairs"},
    {"reward", cmd_reward, "reward model: train (Bradley-Terry) and best-of-N sampling"},
    {"rl", cmd_rl, "reinforcement learning on checkable tasks (group-relative policy gradient, pass@k)"},
    {"prefs", cmd_prefs, "preference judgements: import, export, merge labelers, label automatically"},
};

int cli_error(const char *fmt, ...) {
    if (dist_rank() > 0) fprintf(stderr, "llmos (rank %d): ", dist_rank());
    else fputs("llmos: ", stderr);
    if (!fmt) fputs(err_msg(), stderr);
    else {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return 1;
}

int cli_bad_option(const char *cmd, const char *opt) {
    fprintf(stderr, "llmos %s: unknown option '%s' (see llmos %s --help)\n", cmd, opt, cmd);
    return 2;
}

int cli_missing_value(const char *cmd, const char *opt) {
    fprintf(stderr, "llmos %s: option '%s' needs a value\n", cmd, opt);
    return 2;
}

int cli_is_help(const char *a) { return !strcmp(a, "-h") || !strcmp(a, "--help"); }

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_missing_value(argv[0], argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_default_threads(void) {
    const char *e = getenv("LLMOS_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    /* under mpirun, the cores are shared by the ranks on this machine */
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (local && atoi(local) > 1) n /= atoi(local);
    return n > 0 ? (int)n : 1;
}

int cli_progress_tty(void) { return isatty(2); }

static void usage(FILE *f) {
    fprintf(f, "usage: llmos <command> [options]   (llmos <command> --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(g_commands); i++)
        fprintf(f, "  %-12s %s\n", g_commands[i].name, g_commands[i].summary);
}

int main(int argc, char **argv) {
    /* libgomp reads its waiting policy once, at program start. By default a
     * thread spins ~300k iterations at every barrier before sleeping, which
     * collapses when the cores are shared with other work (a descheduled
     * thread stalls every parallel region); sleeping at once (passive) costs
     * a futex wake-up per region, which caps generation on an idle machine.
     * Measured on 2 cores: 110M q4_0 generation idle, passive 140 tok/s,
     * active 568, spin 1000 510; a small model's perplexity under load 12,
     * default 5.6 s, passive 0.12 s, spin 1000 0.25 s. So unless the user
     * chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT), llmos re-executes itself
     * once with a short spin. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") &&
        setenv("GOMP_SPINCOUNT", "1000", 1) == 0)
        execv("/proc/self/exe", argv); /* on failure, carry on as we are */
    if (dist_init(&argc, &argv) < 0) return cli_error(NULL);
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("llmos %s\n", LLMOS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_LEN(g_commands); i++)
        if (!strcmp(argv[1], g_commands[i].name)) {
            const int rc = g_commands[i].fn(argc - 1, argv + 1);
            /* a rank that fails ends the job: the others may wait on it */
            if (rc != 0) dist_abort(rc);
            dist_finish();
            return rc;
        }
    fprintf(stderr, "llmos: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
