/*
 * cmd_chat.c - `llmos chat MODEL.gguf`: talk to an assistant model in the
 * terminal. Line editing and history come from GNU readline; replies
 * stream token by token; the conversation stays in the model's KV cache
 * (its working memory), and a meter after each reply shows how much of the
 * context window it fills: "[ctx 312/1024]". When the next turn would not
 * fit, the oldest exchanges are dropped and the rest is evaluated again.
 *
 * `-p TEXT` asks one question and prints the answer (for scripts);
 * `--render FILE.jsonl` prints, for each conversation of the file, the
 * template's text and tokens (what the model is trained on), so the
 * template can be checked against other implementations.
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/conv.h"
#include "../infer/session.h"
#include "../tokenizer/chat.h"

#include <readline/history.h>
#include <readline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_usage =
    "usage: llmos chat MODEL.gguf [-p QUESTION] [--system TEXT] [options]\n"
    "Interactive chat with an assistant model (type /help inside for commands).\n"
    "  -p, --prompt TEXT     ask one question, print the answer and exit\n"
    "  --system TEXT         system message that opens the conversation\n"
    "  -n N                  longest reply in tokens (default 512)\n"
    "%s"
    "  (chat's own defaults: --temp 0.7 --repeat-penalty 1.1)\n"
    "  --ctx N               context window in tokens (default: the model's)\n"
    "  -t, --threads N       threads (default: all cores)\n"
    "  --cache-type T        " CLI_CACHE_TYPE_HELP "\n"
    "  --no-meter            do not print the context meter\n"
    "  --render FILE.jsonl   print each conversation's template text and tokens as JSON\n"
    "  --print-template      print the chat template (Jinja) llmos stores in models\n"
    "examples:\n"
    "  llmos chat out/chat.gguf\n"
    "  llmos chat out/chat.gguf -p \"What does 'serendipity' mean?\" --temp 0\n";

/* ---- the conversation (infer/session.h) --------------------------------- */

typedef struct {
    const session *s;
    int meter, started;
} stream_ctx;

static int on_token(void *p, int tok, const char *piece, size_t len) {
    (void)tok;
    stream_ctx *c = p;
    if (!c->started++ && c->meter && session_reply_get(c->s)->dropped)
        fprintf(stderr, "[context full: older turns dropped]\n");
    if (piece) {
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
    }
    return 0;
}

static int ask(session *s, const char *text, int meter) {
    stream_ctx c = {s, meter, 0};
    return session_ask(s, text, on_token, &c);
}

/* ---- --render ----------------------------------------------------------- */

static void json_ints(const int *v, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", v[i]);
    putchar(']');
}

static int render_file(const tokenizer *tok, const char *path) {
    chat_format f;
    if (chat_format_init(&f, tok)) return cli_error(NULL);
    conv_list l = {0};
    l.prompts = 1;
    if (conv_list_read(&l, path)) {
        conv_list_free(&l);
        return cli_error(NULL);
    }
    chat_tokens ct = {0};
    conv_buf b = {0};
    for (size_t i = 0; i < l.n; i++) {
        for (int gen = 0; gen <= 1; gen++) {
            char *text = chat_render(l.items[i].msgs, l.items[i].n, gen, NULL);
            chat_encode(&f, l.items[i].msgs, l.items[i].n, gen, &ct);
            b.n = 0;
            conv_buf_puts(&b, "");
            conv_buf_json_str(&b, text);
            printf("{\"generation_prompt\": %s, \"text\": %s, \"ids\": ", gen ? "true" : "false", b.s);
            json_ints(ct.ids, ct.n);
            printf(", \"train\": [");
            for (size_t k = 0; k < ct.n; k++) printf(k ? ",%d" : "%d", ct.train[k]);
            printf("]}\n");
            free(text);
        }
    }
    conv_buf_free(&b);
    chat_tokens_free(&ct);
    conv_list_free(&l);
    return 0;
}

/* ---- the command -------------------------------------------------------- */

static char *history_path(void) {
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + 32;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/.llmos_chat_history", home);
    return p;
}

static void usage(FILE *f) {
    fprintf(f, g_usage, cli_sampling_help);
}

int cmd_chat(int argc, char **argv) {
    const char *path = NULL, *prompt = NULL, *system = NULL, *render = NULL, *cache = NULL;
    long n_new = 512, threads = cli_default_threads(), ctx = 0;
    sampler_params sp = sampler_defaults();
    sp.temperature = 0.7f;
    sp.repeat_penalty = 1.1f;
    int no_meter = 0, print_template = 0;
    const cli_opt opts[] = {
        {"-p", "--prompt", CLI_STR, &prompt, 0, 0},
        {"--system", NULL, CLI_STR, &system, 0, 0},
        {"--render", NULL, CLI_STR, &render, 0, 0},
        {"-n", NULL, CLI_LONG, &n_new, 1, 1 << 20},
        {"--ctx", NULL, CLI_LONG, &ctx, 16, 1 << 20},
        {"-t", "--threads", CLI_LONG, &threads, 1, 1024},
        {"--cache-type", NULL, CLI_STR, &cache, 0, 0},
        {"--no-meter", NULL, CLI_FLAG, &no_meter, 0, 0},
        {"--print-template", NULL, CLI_FLAG, &print_template, 0, 0},
        {0},
    };
    const int parsed = cli_parse("chat", argc, argv, opts, cli_sampling_option, &sp, usage, &path);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (print_template) {
        puts(chat_template_jinja());
        return 0;
    }
    const int meter = !no_meter;
    if (!path) { usage(stderr); return 2; }
    if (system && !*system) { fprintf(stderr, "llmos chat: --system is empty\n"); return 2; }
    const int kv_type = cli_cache_type("chat", cache);
    if (kv_type < 0) return 2;

    model_set_threads((int)threads);
    model *m = model_load(path);
    if (!m) return cli_error(NULL);
    m->kv_type = kv_type;
    if (!m->tok) {
        model_free(m);
        return cli_error("%s: the file has no tokenizer", path);
    }
    if (render) {
        int rc = render_file(m->tok, render);
        model_free(m);
        return rc;
    }
    int tmpl = chat_template_check(m->file);
    if (tmpl == 0)
        fprintf(stderr, "llmos chat: note: %s holds another chat template; using llmos's\n", path);
    const int n_ctx = ctx > 0 ? (int)MIN(ctx, m->cfg.ctx_len) : m->cfg.ctx_len;
    const session_opts so = {.n_ctx = n_ctx, .max_new = (int)n_new, .chat = 1, .sp = sp};
    session *s = session_new(m, &so);
    if (!s) {
        model_free(m);
        return cli_error("%s: %s", path, err_msg());
    }
    if (system) session_set_system(s, system);

    int rc = 0;
    if (prompt) {
        if (ask(s, prompt, meter)) rc = cli_error(NULL);
        else putchar('\n');
    } else {
        int tty = isatty(0) && isatty(1);
        char *hp = tty ? history_path() : NULL;
        if (hp) read_history(hp);
        if (tty)
            printf("llmos chat: %s (context %d tokens). /help for commands, Ctrl-D to quit.\n",
                   path, n_ctx);
        for (;;) {
            char *line = readline(tty ? "> " : "");
            if (!line) break;
            char *t = line;
            while (*t == ' ' || *t == '\t') t++;
            if (!*t) { free(line); continue; }
            if (tty) add_history(t);
            if (!strcmp(t, "/quit") || !strcmp(t, "/exit")) { free(line); break; }
            if (!strcmp(t, "/help")) {
                printf("  /reset    forget the conversation (keeps --system)\n"
                       "  /quit     leave (or Ctrl-D)\n");
                free(line);
                continue;
            }
            if (!strcmp(t, "/reset")) {
                session_reset(s);
                printf("[conversation cleared]\n");
                free(line);
                continue;
            }
            if (ask(s, t, meter)) {
                cli_error(NULL);
                free(line);
                continue;
            }
            putchar('\n');
            if (meter) {
                const gen_stats *gs = &session_reply_get(s)->stats;
                double tps = gs->gen_seconds > 0 ? gs->n_generated / gs->gen_seconds : 0;
                fprintf(stdout, "[ctx %d/%d | %.1f tok/s]\n", session_used(s), n_ctx, tps);
            }
            fflush(stdout);
            free(line);
        }
        if (hp) {
            write_history(hp);
            free(hp);
        }
    }
    session_free(s);
    model_free(m);
    return rc;
}
