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
#include "../infer/generate.h"
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

/* ---- the conversation --------------------------------------------------- */

typedef struct {
    chat_msg *m; /* contents owned */
    int n, cap;
} history;

static void hist_add(history *h, chat_role r, const char *s) {
    if (h->n == h->cap) h->m = xrealloc(h->m, (size_t)(h->cap = h->cap ? h->cap * 2 : 16) * sizeof *h->m);
    h->m[h->n].role = r;
    h->m[h->n].content = xstrdup(s);
    h->n++;
}

static void hist_drop(history *h, int from, int count) {
    for (int i = from; i < from + count; i++) free((char *)h->m[i].content);
    memmove(h->m + from, h->m + from + count, (size_t)(h->n - from - count) * sizeof *h->m);
    h->n -= count;
}

static void hist_free(history *h) {
    hist_drop(h, 0, h->n);
    free(h->m);
    memset(h, 0, sizeof *h);
}

typedef struct {
    const model *m;
    model_state *st;
    sampler *smp;
    chat_format fmt;
    int n_ctx, max_new, meter, stream;
    int pos;        /* tokens in the KV cache */
    int pending[2]; /* evaluated before the next turn: the last reply's end */
    int n_pending;
    int last;       /* the last sampled token */
    history h;
    char *reply;    /* the reply being generated */
    size_t reply_len, reply_cap;
    chat_tokens ct;
} chat_session;

static int on_token(int tok, void *p) {
    chat_session *s = p;
    s->last = tok;
    if (tok_is_special(s->m->tok, tok)) return 0;
    size_t len;
    const char *piece = tok_decode(s->m->tok, tok, &len);
    if (s->reply_len + len + 1 > s->reply_cap) {
        s->reply_cap = (s->reply_len + len + 1) * 2;
        s->reply = xrealloc(s->reply, s->reply_cap);
    }
    memcpy(s->reply + s->reply_len, piece, len);
    s->reply_len += len;
    s->reply[s->reply_len] = 0;
    if (s->stream) {
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
    }
    return 0;
}

/* Re-encodes the whole history (minus the oldest exchanges while it does
 * not fit with room for a reply) and evaluates it from position 0. */
static int session_rebuild(chat_session *s, int *n_prompt_out) {
    int room = MIN(s->max_new, s->n_ctx / 4);
    for (;;) {
        chat_encode(&s->fmt, s->h.m, s->h.n, 1, &s->ct);
        if ((int)s->ct.n + room <= s->n_ctx) break;
        int first = s->h.n && s->h.m[0].role == CHAT_SYSTEM ? 1 : 0;
        if (s->h.n - first <= 1)
            return err_set("the message is %zu tokens, too long for the context of %d", s->ct.n,
                           s->n_ctx);
        /* drop the oldest message and whatever follows it up to the next user turn */
        int k = 1;
        while (first + k < s->h.n - 1 && s->h.m[first + k].role != CHAT_USER) k++;
        hist_drop(&s->h, first, k);
    }
    s->pos = 0;
    s->n_pending = 0;
    *n_prompt_out = (int)s->ct.n;
    return 0;
}

/* Adds a user message, generates the reply (streamed when s->stream) and
 * keeps it in the history. The reply text is in s->reply. */
static int session_ask(chat_session *s, const char *text, gen_stats *gs) {
    hist_add(&s->h, CHAT_USER, text);
    /* the new tokens: the end of the last reply, the user turn, the generation prompt */
    chat_tokens_clear(&s->ct);
    if (s->pos == 0 && s->n_pending == 0) {
        chat_encode(&s->fmt, s->h.m, s->h.n, 1, &s->ct);
    } else {
        for (int i = 0; i < s->n_pending; i++) chat_tokens_push(&s->ct, s->pending[i], 0);
        chat_encode_msg(&s->fmt, &s->ct, &s->h.m[s->h.n - 1]);
        chat_encode_gen_prompt(&s->fmt, &s->ct);
    }
    int n_prompt = (int)s->ct.n;
    if (s->pos + n_prompt + MIN(s->max_new, s->n_ctx / 4) > s->n_ctx) {
        if (session_rebuild(s, &n_prompt)) {
            hist_drop(&s->h, s->h.n - 1, 1);
            return -1;
        }
        if (s->meter) fprintf(stderr, "[context full: older turns dropped]\n");
    }
    s->reply_len = 0;
    if (s->reply) s->reply[0] = 0;
    int max_new = MIN(s->max_new, s->n_ctx - s->pos - n_prompt);
    s->n_pending = 0;
    s->last = -1;
    if (generate(s->m, s->st, s->smp, s->ct.ids, n_prompt, &s->pos, max_new, s->n_ctx, on_token, s,
                 gs))
        return -1;
    hist_add(&s->h, CHAT_ASSISTANT, s->reply ? s->reply : "");
    return 0;
}

/* After a reply: what to evaluate before the next user turn. The last
 * generated token is never in the cache yet (generate stops before
 * evaluating it); a reply cut short gets its end of turn added. */
static void session_close_turn(chat_session *s, const gen_stats *gs) {
    s->n_pending = 0;
    if (!gs->stopped_at_eos && s->last >= 0) s->pending[s->n_pending++] = s->last;
    s->pending[s->n_pending++] = s->fmt.eot;
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
    chat_session s = {0};
    s.m = m;
    s.stream = 1;
    s.meter = meter;
    s.max_new = (int)n_new;
    if (chat_format_init(&s.fmt, m->tok)) {
        model_free(m);
        return cli_error("%s: %s", path, err_msg());
    }
    int tmpl = chat_template_check(m->file);
    if (tmpl == 0)
        fprintf(stderr, "llmos chat: note: %s holds another chat template; using llmos's\n", path);
    s.n_ctx = ctx > 0 ? (int)MIN(ctx, m->cfg.ctx_len) : m->cfg.ctx_len;
    s.st = model_state_new(m, s.n_ctx, MIN(s.n_ctx, 512));
    s.smp = sampler_new(&sp, m->cfg.vocab_size);
    if (system) hist_add(&s.h, CHAT_SYSTEM, system);

    int rc = 0;
    gen_stats gs;
    if (prompt) {
        if (session_ask(&s, prompt, &gs)) rc = cli_error(NULL);
        else putchar('\n');
    } else {
        int tty = isatty(0) && isatty(1);
        char *hp = tty ? history_path() : NULL;
        if (hp) read_history(hp);
        if (tty)
            printf("llmos chat: %s (context %d tokens). /help for commands, Ctrl-D to quit.\n",
                   path, s.n_ctx);
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
                int keep = s.h.n && s.h.m[0].role == CHAT_SYSTEM;
                hist_drop(&s.h, keep, s.h.n - keep);
                s.pos = 0;
                s.n_pending = 0;
                printf("[conversation cleared]\n");
                free(line);
                continue;
            }
            if (session_ask(&s, t, &gs)) {
                cli_error(NULL);
                free(line);
                continue;
            }
            session_close_turn(&s, &gs);
            putchar('\n');
            if (s.meter) {
                double tps = gs.gen_seconds > 0 ? gs.n_generated / gs.gen_seconds : 0;
                fprintf(stdout, "[ctx %d/%d | %.1f tok/s]\n", s.pos + s.n_pending, s.n_ctx, tps);
            }
            fflush(stdout);
            free(line);
        }
        if (hp) {
            write_history(hp);
            free(hp);
        }
    }
    chat_tokens_free(&s.ct);
    free(s.reply);
    hist_free(&s.h);
    sampler_free(s.smp);
    model_state_free(s.st);
    model_free(m);
    return rc;
}
