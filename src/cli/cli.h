/*
 * cli.h - the llmos command line: one table in main.c maps each command
 * name to a cmd_* function in its own cmd_<name>.c file.
 *
 * A command gets argv with argv[0] = its own name, returns the process exit
 * status (0 ok, 1 failure of the work, 2 bad usage), and prints its own
 * errors with cli_error(). Every command answers --help with a usage line,
 * its options and an example.
 */
#ifndef LLMOS_CLI_H
#define LLMOS_CLI_H

#include <stdint.h>
#include <stdio.h>

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    cmd_fn fn;
    const char *summary;
} cli_command;

/* Prints "llmos: MSG\n" to stderr (MSG = the current err_msg() when fmt is NULL)
 * and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "llmos CMD: unknown option 'X' (see llmos CMD --help)" and returns 2. */
int cli_bad_option(const char *cmd, const char *opt);
/* Prints "llmos CMD: option 'X' needs a value" and returns 2. */
int cli_missing_value(const char *cmd, const char *opt);
/* 1 if arg is -h or --help. */
int cli_is_help(const char *arg);
/* Fetches the value of an option that takes one: returns argv[++*i] or NULL
 * (after printing the error) when the value is missing. */
const char *cli_value(int argc, char **argv, int *i);
/* Default thread count: LLMOS_THREADS or the number of online CPUs. */
int cli_default_threads(void);
/* The KV cache type --cache-type names: v NULL or "f16" gives TYPE_F16 (the
 * default, as llama.cpp's), "f32" TYPE_F32; anything else prints
 * "CMD: --cache-type ..." and gives -1. */
int cli_cache_type(const char *cmd, const char *v);
#define CLI_CACHE_TYPE_HELP "KV cache type: f16 (default, as llama.cpp) or f32"
/* 1 if stderr is a terminal (progress lines redraw in place). */
int cli_progress_tty(void);

/* A command's own options, as a table for cli_parse: the name (and an
 * alias or NULL), the kind, where the value goes, and for whole numbers the
 * accepted range [lo, hi]. The table ends with a zeroed entry. */
typedef enum {
    CLI_STR,    /* const char **: the argument itself */
    CLI_LONG,   /* long * */
    CLI_INT,    /* int * */
    CLI_DOUBLE, /* double * */
    CLI_COUNT,  /* double *: a count with an optional suffix (20M, 1.5e9; parse_count) */
    CLI_FLAG    /* int *: set to 1, no value */
} cli_opt_kind;

typedef struct {
    const char *name, *alias;
    cli_opt_kind kind;
    void *dst;
    long lo, hi;
} cli_opt;

/* A parser of a group of options several commands share (cli_train_option,
 * cli_sampling_option, ...): 1 when it took argv[*i], 0 when it is not
 * one of its options, -1 after printing an error. */
typedef int (*cli_group_fn)(int argc, char **argv, int *i, void *dst);

/* Parses argv[1..argc) of command cmd ("reward train"): each argument is
 * offered to group (may be NULL, with its dst), then looked up in opts;
 * -h/--help prints usage to stdout. A bare argument goes to *positional
 * (when not NULL, once). Returns 0 when all parsed, 1 after --help (the
 * command exits 0), 2 after printing a usage error (it exits 2). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, cli_group_fn group, void *group_dst,
              void (*usage)(FILE *f), const char **positional);

/* Sampling options shared by the commands that generate (--temp, --top-k,
 * --top-p, --min-p, --repeat-penalty, --repeat-last-n, --seed): when
 * argv[*i] is one of them, reads it (and its value, advancing *i) into p and
 * returns 1; returns 0 for any other argument, and -1 after printing the
 * error for a bad or out-of-range value. The struct is sampler_params
 * (src/infer/sample.h). */
int cli_sampling_option(int argc, char **argv, int *i, void *sampler_params);
/* The --help lines for those options. */
extern const char *const cli_sampling_help;

/* The same for the optimizer hyperparameters of the training commands
 * (--lr, --min-lr-ratio, --warmup, --schedule, --weight-decay, --clip,
 * --beta1, --beta2, --eps) into a train_hparams (src/train/optim.h). */
int cli_hparams_option(int argc, char **argv, int *i, void *train_hparams);

/* The same for the run options the training commands share, into a
 * train_run_opts (src/train/loop.h): the hyperparameters above, --steps,
 * --epochs (when the stage takes_epochs), --batch (up to its max_batch),
 * --eval-every, --save-every, --resume, --stop-after, --seed, --threads,
 * --quiet and the test hook --grad-dump. */
int cli_train_option(int argc, char **argv, int *i, void *train_run_opts);
/* Prints their --help lines with the stage's defaults; batch_what says
 * what --batch counts ("pairs per step"). */
void cli_train_help(FILE *f, const void *train_run_opts, const char *batch_what);

/* The options of the commands that answer prompts and judge the answers
 * (prefs auto, prefs winrate, reward best-of): the prompts (--prompts FILE,
 * a conversations file whose first user turns are asked, or --arith N
 * generated questions), --judge J, --skip N, --limit N (0: all),
 * --max-new N, --temp T, --seed S and --threads N. */
typedef struct {
    const char *prompts, *judge; /* NULL; "auto" */
    const char *text;            /* a single question the command takes (-p), or NULL */
    long arith, skip, limit;     /* 0 */
    long max_new, seed, threads; /* 64, 1, cli_default_threads() */
    double temp;                 /* as given to cli_prompt_defaults */
} cli_prompt_opts;

cli_prompt_opts cli_prompt_defaults(double temp);
/* Like cli_sampling_option, for those options. */
int cli_prompt_option(int argc, char **argv, int *i, void *cli_prompt_opts);
/* Gets such a command going: the judge (src/data/judge.h), the prompts in
 * a conv_list (src/data/conv.h: the file's conversations, the arith
 * questions, then text as a user turn) and the threads. 0; 2 after
 * printing an unknown judge; 1 after printing why the prompts cannot be
 * read or why none is left after --skip (the list is then released). */
int cli_prompt_load(const char *cmd, const cli_prompt_opts *p, void *conv_list, void *judge);
/* Appends n generated questions "What is a op b?" (a, b in 0..99, op in
 * + - *) to a conv_list; question i is the same for every n > i. */
void cli_arith_prompts(void *conv_list, long n, uint64_t seed);
/* A --judge value (auto, arith, f1, cmd:COMMAND) into a judge
 * (src/data/judge.h); -1 after printing "llmos CMD: unknown judge". */
int cli_judge(const char *cmd, const char *name, void *judge);

/* The commands. */
int cmd_info(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_decompress(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_tokenizer_train(int argc, char **argv);
int cmd_tokenizer_info(int argc, char **argv);
int cmd_tokenizer_import(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_data_chats(int argc, char **argv);
int cmd_data_build(int argc, char **argv);
int cmd_data_stats(int argc, char **argv);
int cmd_data_tokenize(int argc, char **argv);
int cmd_data_packages(int argc, char **argv);
int cmd_data_check(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_scaling(int argc, char **argv);
int cmd_sft(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_prefs(int argc, char **argv);
int cmd_dpo(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_rl(int argc, char **argv);
int cmd_reward(int argc, char **argv);

#endif
