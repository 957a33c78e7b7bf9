/*
 * qa.c - the conversation dataset builder (see qa.h). One reader per
 * source turns its files into subjects; each subject becomes one or more
 * conversations through emit(), which picks the file (training or held
 * out) by the subject's hash.
 */
#include "qa.h"

#include "../core/common.h"
#include "conv.h"
#include "corpus.h"
#include "needs.h"

#include <ctype.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Output
 * ====================================================================== */

typedef struct {
    const qa_opts *o;
    atomic_file train, held;
    int has_held;
    qa_source_stats *cur;
    uint64_t rng;     /* per subject, seeded from its hash */
    int write_error;
    char subject_key[256];
} qa_ctx;

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int pick(qa_ctx *c, int n) { return (int)(rng_next(&c->rng) % (uint64_t)n); }
static int chance(qa_ctx *c, int percent) { return pick(c, 100) < percent; }

/* The hash of a subject's lowercased name. */
static uint64_t subject_hash(qa_ctx *c, const char *subject) {
    size_t n = 0;
    for (const char *p = subject; *p && n + 1 < sizeof c->subject_key; p++)
        c->subject_key[n++] = (char)tolower((unsigned char)*p);
    c->subject_key[n] = 0;
    return text_hash64(c->subject_key, n, 0x51a7e5u);
}

/* Starts a subject: seeds the phrasing choices from its hash. */
static void subject_begin(qa_ctx *c, const char *subject) {
    c->rng = subject_hash(c, subject) ^ c->o->seed;
    rng_next(&c->rng);
}

/* 1 when the subject is held out; the split ignores the seed, so
 * held-out subjects stay held out whatever the phrasing. */
static int subject_held(qa_ctx *c, const char *subject) {
    uint64_t h = subject_hash(c, subject);
    return c->has_held && (double)(h >> 11) / 9007199254740992.0 < c->o->heldout_frac;
}

static void emit(qa_ctx *c, const char *subject, const chat_msg *m, int n) {
    if (c->o->max_per_source > 0 &&
        (long)(c->cur->n_train + c->cur->n_heldout) >= c->o->max_per_source)
        return;
    int held = subject_held(c, subject);
    conv_buf extra = {0};
    conv_buf_puts(&extra, "\"source\": ");
    conv_buf_json_str(&extra, c->cur->name);
    conv_buf_puts(&extra, ", \"subject\": ");
    conv_buf_json_str(&extra, subject);
    if (conv_write(held ? c->held.f : c->train.f, m, n, extra.s)) c->write_error = 1;
    conv_buf_free(&extra);
    if (held) c->cur->n_heldout++;
    else c->cur->n_train++;
}

/* printf into a fresh string. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
    va_list ap, ap2;
    va_start(ap, f);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, f, ap2);
    va_end(ap2);
    return s;
}

/* A conversation under construction; strings are owned. */
typedef struct {
    chat_msg m[12];
    int n;
} convo;

static void say(convo *cv, chat_role r, char *owned) {
    LLMOS_ASSERT(cv->n < (int)ARRAY_LEN(cv->m));
    cv->m[cv->n].role = r;
    cv->m[cv->n].content = owned;
    cv->n++;
}
static void convo_emit(qa_ctx *c, const char *subject, convo *cv) {
    emit(c, subject, cv->m, cv->n);
    for (int i = 0; i < cv->n; i++) free((char *)cv->m[i].content);
    cv->n = 0;
}

/* Reads a data file (decompressing .gz and .dz); NULL with err_set naming
 * the Debian package that provides it. */
static char *need_file(const char *path, const char *package, size_t *len) {
    char *s = corpus_slurp(path, len);
    if (!s) err_set("cannot read '%s' (install the Debian package '%s': apt-get install %s)",
                    path, package, package);
    return s;
}

/* Collapses whitespace runs to one space and trims, in place. */
static char *squash(char *s) {
    char *w = s;
    int sp = 0;
    for (char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) sp = w != s;
        else {
            if (sp) *w++ = ' ';
            sp = 0;
            *w++ = *r;
        }
    }
    *w = 0;
    return s;
}

static void upper_first(char *s) {
    if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 'a' + 'A');
}

/* "a, b and c" from n strings. */
static char *join_and(char **w, int n, const char *quote) {
    conv_buf b = {0};
    conv_buf_puts(&b, "");
    for (int i = 0; i < n; i++) {
        if (i) conv_buf_puts(&b, i == n - 1 ? " and " : ", ");
        conv_buf_puts(&b, quote);
        conv_buf_puts(&b, w[i]);
        conv_buf_puts(&b, quote);
    }
    return b.s;
}

/* ======================================================================
 * WordNet: definitions, examples, synonyms, antonyms, hypernyms
 * ====================================================================== */

typedef struct {
    char pos;        /* n v a r */
    char **words;    /* lemmas, spaces for underscores */
    int n_words;
    char *gloss;     /* definition */
    char **ex;       /* example sentences */
    int n_ex;
    long hyper;      /* offset of the first hypernym synset (same pos), -1 */
    long anto;       /* offset of an antonym synset, -1 */
    long offset;
} wn_synset;

typedef struct {
    wn_synset *s;
    size_t n, cap;
} wn_db;

typedef struct {
    char *key; /* lowercased lemma */
    size_t syn;
} wn_sense;

static const char *pos_name(char p) {
    switch (p) {
    case 'n': return "noun";
    case 'v': return "verb";
    case 'a': return "adjective";
    case 'r': return "adverb";
    }
    return "word";
}

static int wn_parse_file(wn_db *db, const char *path) {
    size_t len;
    char *buf = need_file(path, "wordnet-base", &len);
    if (!buf) return -1;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == ' ') continue; /* license header */
        char *bar = strstr(line, " | ");
        if (!bar) continue;
        *bar = 0;
        char *gl = bar + 3;
        char *tok_save = NULL;
        char *t = strtok_r(line, " ", &tok_save);
        if (!t) continue;
        wn_synset s = {0};
        s.offset = atol(t);
        s.hyper = s.anto = -1;
        strtok_r(NULL, " ", &tok_save); /* lex_filenum */
        t = strtok_r(NULL, " ", &tok_save);
        if (!t) continue;
        s.pos = t[0] == 's' ? 'a' : t[0];
        t = strtok_r(NULL, " ", &tok_save);
        if (!t) continue;
        int wc = (int)strtol(t, NULL, 16);
        s.words = xcalloc((size_t)wc, sizeof *s.words);
        for (int i = 0; i < wc; i++) {
            char *w = strtok_r(NULL, " ", &tok_save);
            strtok_r(NULL, " ", &tok_save); /* lex_id */
            if (!w) break;
            char *paren = strchr(w, '(');
            if (paren) *paren = 0; /* adjective markers (a) (p) (ip) */
            for (char *p = w; *p; p++)
                if (*p == '_') *p = ' ';
            s.words[s.n_words++] = xstrdup(w);
        }
        t = strtok_r(NULL, " ", &tok_save);
        int pc = t ? atoi(t) : 0;
        for (int i = 0; i < pc; i++) {
            char *sym = strtok_r(NULL, " ", &tok_save);
            char *off = strtok_r(NULL, " ", &tok_save);
            char *pp = strtok_r(NULL, " ", &tok_save);
            char *st = strtok_r(NULL, " ", &tok_save);
            if (!sym || !off || !pp || !st) break;
            char ppos = pp[0] == 's' ? 'a' : pp[0];
            if (ppos != s.pos) continue;
            if ((!strcmp(sym, "@") || !strcmp(sym, "@i")) && s.hyper < 0) s.hyper = atol(off);
            if (!strcmp(sym, "!") && s.anto < 0) s.anto = atol(off);
        }
        /* gloss: definition, then "; \"example\"" parts */
        char *q = strstr(gl, "; \"");
        char *def_end = q ? q : gl + strlen(gl);
        s.gloss = squash(xstrndup(gl, (size_t)(def_end - gl)));
        while (q && (q = strchr(q, '"'))) {
            char *e = strchr(q + 1, '"');
            if (!e) break;
            if (e - q > 3) {
                s.ex = xrealloc(s.ex, (size_t)(s.n_ex + 1) * sizeof *s.ex);
                s.ex[s.n_ex++] = squash(xstrndup(q + 1, (size_t)(e - q - 1)));
            }
            q = e + 1;
        }
        if (!s.n_words || !*s.gloss || strlen(s.gloss) < 3) {
            for (int i = 0; i < s.n_words; i++) free(s.words[i]);
            for (int i = 0; i < s.n_ex; i++) free(s.ex[i]);
            free(s.words), free(s.ex), free(s.gloss);
            continue;
        }
        if (db->n == db->cap) {
            db->cap = db->cap ? db->cap * 2 : 65536;
            db->s = xrealloc(db->s, db->cap * sizeof *db->s);
        }
        db->s[db->n++] = s;
    }
    free(buf);
    return 0;
}

static wn_synset *wn_find(wn_db *db, char pos, long off) {
    size_t lo = 0, hi = db->n;
    /* synsets of one pos are contiguous and in file (offset) order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        wn_synset *m = &db->s[mid];
        if (m->pos < pos || (m->pos == pos && m->offset < off)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < db->n && db->s[lo].pos == pos && db->s[lo].offset == off) return &db->s[lo];
    return NULL;
}

static int sense_cmp(const void *a, const void *b) {
    const wn_sense *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->syn < y->syn ? -1 : x->syn > y->syn;
}

static int syn_cmp(const void *a, const void *b) {
    const wn_synset *x = a, *y = b;
    if (x->pos != y->pos) return x->pos - y->pos;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static const char *const q_define[] = {
    "What does \"%s\" mean?",
    "What is the meaning of the word \"%s\"?",
    "Define \"%s\".",
    "Can you tell me what \"%s\" means?",
    "I came across the word \"%s\". What does it mean?",
    "What's the definition of %s?",
    "Explain the word \"%s\" to me.",
    "%s - what does that mean?",
    "Please define the word %s.",
    "What do people mean when they say \"%s\"?",
};

static const char *const q_syn[] = {
    "What is another word for \"%s\"?",
    "Give me a synonym for \"%s\".",
    "What are some synonyms of %s?",
    "Which words mean the same as \"%s\"?",
};

static const char *const q_ant[] = {
    "What is the opposite of \"%s\"?",
    "Give me an antonym of \"%s\".",
    "What word means the opposite of %s?",
};

static const char *const q_hyper[] = {
    "What kind of thing is a %s?",
    "What is a %s a type of?",
    "Is a %s a kind of something? What is it?",
};

/* Synonyms of a synset other than word w (up to max). */
static int synonyms(const wn_synset *s, const char *w, char **out, int max) {
    int n = 0;
    for (int i = 0; i < s->n_words && n < max; i++)
        if (strcasecmp(s->words[i], w)) out[n++] = s->words[i];
    return n;
}

static char *define_answer(qa_ctx *c, const char *w, wn_synset **ss, int n) {
    if (n == 1) {
        const wn_synset *s = ss[0];
        char *a;
        if (s->n_ex && chance(c, 50))
            a = fmt("The %s \"%s\" is %s %s meaning %s. For example: \"%s\".",
                    strchr(w, ' ') ? "term" : "word", w,
                    s->pos == 'a' || s->pos == 'r' ? "an" : "a", pos_name(s->pos), s->gloss,
                    s->ex[0]);
        else
            a = fmt("The %s \"%s\" is %s %s meaning %s.", strchr(w, ' ') ? "term" : "word", w,
                    s->pos == 'a' || s->pos == 'r' ? "an" : "a",
                    pos_name(s->pos), s->gloss);
        upper_first(a);
        return a;
    }
    conv_buf b = {0};
    char *head = fmt("The %s \"%s\" has %s meanings:", strchr(w, ' ') ? "term" : "word", w,
                     n == 2 ? "two" : "several");
    upper_first(head);
    conv_buf_puts(&b, head);
    free(head);
    int shown = MIN(n, 4);
    for (int i = 0; i < shown; i++) {
        char *line = fmt("\n%d. (%s) %s", i + 1, pos_name(ss[i]->pos), ss[i]->gloss);
        conv_buf_puts(&b, line);
        free(line);
        conv_buf_puts(&b, ".");
    }
    return b.s;
}

static int read_wordnet(qa_ctx *c) {
    static const char *const files[] = {"data.noun", "data.verb", "data.adj", "data.adv"};
    wn_db db = {0};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char path[256];
        snprintf(path, sizeof path, "/usr/share/wordnet/%s", files[i]);
        if (wn_parse_file(&db, path)) return -1;
    }
    qsort(db.s, db.n, sizeof *db.s, syn_cmp);
    size_t n_senses = 0, cap = db.n * 2;
    wn_sense *sen = xmalloc(cap * sizeof *sen);
    for (size_t i = 0; i < db.n; i++)
        for (int k = 0; k < db.s[i].n_words; k++) {
            if (n_senses == cap) sen = xrealloc(sen, (cap *= 2) * sizeof *sen);
            char *key = xstrdup(db.s[i].words[k]);
            for (char *p = key; *p; p++) *p = (char)tolower((unsigned char)*p);
            sen[n_senses].key = key;
            sen[n_senses].syn = i;
            n_senses++;
        }
    qsort(sen, n_senses, sizeof *sen, sense_cmp);
    /* sense order: WordNet lists a word's most common sense first in each
     * pos file; nouns before verbs before adjectives keeps that order */
    convo cv = {0};
    for (size_t i = 0; i < n_senses;) {
        size_t j = i;
        while (j < n_senses && !strcmp(sen[j].key, sen[i].key)) j++;
        wn_synset *ss[8];
        int n = 0;
        for (size_t k = i; k < j && n < 8; k++)
            if (!n || ss[n - 1] != &db.s[sen[k].syn]) ss[n++] = &db.s[sen[k].syn];
        /* the lemma as written in its first synset (keeps capitals) */
        const char *w = sen[i].key;
        for (int k = 0; k < ss[0]->n_words; k++)
            if (!strcasecmp(ss[0]->words[k], sen[i].key)) w = ss[0]->words[k];
        i = j;
        if (strlen(w) < 2 || strlen(w) > 60) continue;
        c->cur->n_subjects++;
        subject_begin(c, w);
        say(&cv, CHAT_USER, fmt(q_define[pick(c, ARRAY_LEN(q_define))], w));
        say(&cv, CHAT_ASSISTANT, define_answer(c, w, ss, n));
        /* a follow-up on the first sense, leaning on the context */
        const wn_synset *s0 = ss[0];
        char *syn[4];
        int ns = synonyms(s0, w, syn, 3);
        int r = pick(c, 100);
        if (r < 25 && s0->n_ex) {
            static const char *const fu[] = {"Can you use it in a sentence?",
                                             "Give me an example.",
                                             "How would I use it in a sentence?"};
            say(&cv, CHAT_USER, xstrdup(fu[pick(c, ARRAY_LEN(fu))]));
            say(&cv, CHAT_ASSISTANT,
                fmt("Here is an example: \"%s\".", s0->ex[s0->n_ex > 1 ? pick(c, s0->n_ex) : 0]));
        } else if (r < 45 && ns) {
            static const char *const fu[] = {"Any synonyms?", "What are some other words for it?",
                                             "Is there another word with the same meaning?"};
            say(&cv, CHAT_USER, xstrdup(fu[pick(c, ARRAY_LEN(fu))]));
            char *list = join_and(syn, ns, "\"");
            say(&cv, CHAT_ASSISTANT,
                fmt("In that sense, %s can be used instead of \"%s\".", list, w));
            free(list);
        } else if (r < 60 && s0->pos == 'n' && s0->hyper >= 0) {
            const wn_synset *h = wn_find(&db, 'n', s0->hyper);
            if (h) {
                say(&cv, CHAT_USER, xstrdup("What kind of thing is that?"));
                say(&cv, CHAT_ASSISTANT,
                    fmt("A %s is a kind of %s: %s.", w, h->words[0], h->gloss));
            }
        }
        convo_emit(c, w, &cv);
        /* separate single-turn questions about relations */
        if (ns && chance(c, 35)) {
            say(&cv, CHAT_USER, fmt(q_syn[pick(c, ARRAY_LEN(q_syn))], w));
            char *list = join_and(syn, ns, "\"");
            say(&cv, CHAT_ASSISTANT,
                ns == 1 ? fmt("Another word for \"%s\" is \"%s\" (%s: %s).", w, syn[0],
                              pos_name(s0->pos), s0->gloss)
                        : fmt("Synonyms of \"%s\" include %s (%s: %s).", w, list,
                              pos_name(s0->pos), s0->gloss));
            free(list);
            convo_emit(c, w, &cv);
        }
        for (int k = 0; k < n; k++)
            if (ss[k]->anto >= 0) {
                const wn_synset *a = wn_find(&db, ss[k]->pos, ss[k]->anto);
                if (!a) break;
                say(&cv, CHAT_USER, fmt(q_ant[pick(c, ARRAY_LEN(q_ant))], w));
                say(&cv, CHAT_ASSISTANT,
                    fmt("The opposite of \"%s\" is \"%s\", meaning %s.", w, a->words[0],
                        a->gloss));
                convo_emit(c, w, &cv);
                break;
            }
        if (s0->pos == 'n' && s0->hyper >= 0 && cv.n == 0 && chance(c, 25)) {
            const wn_synset *h = wn_find(&db, 'n', s0->hyper);
            if (h) {
                say(&cv, CHAT_USER, fmt(q_hyper[pick(c, ARRAY_LEN(q_hyper))], w));
                say(&cv, CHAT_ASSISTANT,
                    fmt("A %s is a kind of %s. More precisely, it is %s.", w, h->words[0],
                        s0->gloss));
                convo_emit(c, w, &cv);
            }
        }
    }
    for (size_t i = 0; i < n_senses; i++) free(sen[i].key);
    free(sen);
    for (size_t i = 0; i < db.n; i++) {
        for (int k = 0; k < db.s[i].n_words; k++) free(db.s[i].words[k]);
        for (int k = 0; k < db.s[i].n_ex; k++) free(db.s[i].ex[k]);
        free(db.s[i].words), free(db.s[i].ex), free(db.s[i].gloss);
    }
    free(db.s);
    return 0;
}

/* ======================================================================
 * dictd databases (elements, VERA): entries through the .index file
 * ====================================================================== */

static long b64num(const char *s, const char *end) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    long v = 0;
    for (; s < end; s++) {
        const char *p = strchr(al, *s);
        if (!p || !*s) return -1;
        v = v * 64 + (p - al);
    }
    return v;
}

typedef void (*dict_entry_fn)(qa_ctx *c, const char *head, char *body);

static int read_dictd(qa_ctx *c, const char *name, const char *package, dict_entry_fn fn) {
    char ipath[256], dpath[256];
    snprintf(ipath, sizeof ipath, "/usr/share/dictd/%s.index", name);
    snprintf(dpath, sizeof dpath, "/usr/share/dictd/%s.dict.dz", name);
    size_t ilen, dlen;
    char *idx = need_file(ipath, package, &ilen);
    if (!idx) return -1;
    char *dict = need_file(dpath, package, &dlen);
    if (!dict) {
        free(idx);
        return -1;
    }
    char *save = NULL;
    for (char *line = strtok_r(idx, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t');
        if (!t1) continue;
        char *t2 = strchr(t1 + 1, '\t');
        if (!t2) continue;
        *t1 = 0;
        if (!strncmp(line, "00database", 10) || !strncmp(line, "00-database", 11)) continue;
        long off = b64num(t1 + 1, t2), len = b64num(t2 + 1, t2 + 1 + strlen(t2 + 1));
        if (off < 0 || len <= 0 || (size_t)(off + len) > dlen) continue;
        char *body = xstrndup(dict + off, (size_t)len);
        c->cur->n_subjects++;
        fn(c, line, body);
        free(body);
    }
    free(idx);
    free(dict);
    return 0;
}

static void element_entry(qa_ctx *c, const char *head, char *body) {
    char name[64] = "", sym[16] = "", num[16] = "", wt[32] = "";
    char *desc = NULL;
    char *save = NULL;
    int k = 0;
    for (char *l = strtok_r(body, "\n", &save); l; l = strtok_r(NULL, "\n", &save), k++) {
        if (k == 0) snprintf(name, sizeof name, "%s", l);
        else if (!strncmp(l, "Symbol: ", 8)) snprintf(sym, sizeof sym, "%s", l + 8);
        else if (!strncmp(l, "Atomic number: ", 15)) snprintf(num, sizeof num, "%s", l + 15);
        else if (!strncmp(l, "Atomic weight: ", 15)) snprintf(wt, sizeof wt, "%s", l + 15);
        else {
            desc = l;
            /* the rest of the body is the description */
            size_t dl = strlen(l);
            if (save && *save) l[dl] = ' ';
            break;
        }
    }
    squash(name);
    if (!*name || !*sym || !*num || strcasecmp(name, head)) return;
    char Name[64];
    snprintf(Name, sizeof Name, "%s", name);
    upper_first(Name);
    convo cv = {0};
    subject_begin(c, name);
    static const char *const q_sym[] = {"What is the chemical symbol for %s?",
                                        "What's the symbol of the element %s?",
                                        "Which symbol does %s have in the periodic table?"};
    static const char *const q_num[] = {"What is the atomic number of %s?",
                                        "How many protons does an atom of %s have?"};
    static const char *const q_by_sym[] = {"Which element has the symbol %s?",
                                           "What element is %s?"};
    int r = pick(c, 3);
    if (r == 0) {
        say(&cv, CHAT_USER, fmt(q_sym[pick(c, ARRAY_LEN(q_sym))], name));
        say(&cv, CHAT_ASSISTANT, fmt("The chemical symbol for %s is %s.", name, sym));
        say(&cv, CHAT_USER, xstrdup("And its atomic number?"));
        say(&cv, CHAT_ASSISTANT, fmt("%s has atomic number %s.", Name, num));
    } else if (r == 1) {
        say(&cv, CHAT_USER, fmt(q_num[pick(c, ARRAY_LEN(q_num))], name));
        say(&cv, CHAT_ASSISTANT,
            fmt("%s has atomic number %s: each of its atoms has %s protons.", Name, num, num));
    } else {
        say(&cv, CHAT_USER, fmt(q_by_sym[pick(c, ARRAY_LEN(q_by_sym))], sym));
        say(&cv, CHAT_ASSISTANT, fmt("%s is the symbol of %s, atomic number %s.", sym, name, num));
    }
    if (*wt && chance(c, 40)) {
        say(&cv, CHAT_USER, xstrdup("What is its atomic weight?"));
        say(&cv, CHAT_ASSISTANT, fmt("The atomic weight of %s is %s.", name, wt));
    }
    convo_emit(c, name, &cv);
    if (desc) {
        char *d = squash(xstrdup(desc));
        if (strlen(d) > 40 && strlen(d) < 1200 && !strchr(d, '[')) {
            static const char *const q_about[] = {"Tell me about %s.", "What is %s?",
                                                  "Describe the element %s."};
            say(&cv, CHAT_USER, fmt(q_about[pick(c, ARRAY_LEN(q_about))], name));
            say(&cv, CHAT_ASSISTANT, fmt("%s (symbol %s, atomic number %s): %s", Name, sym, num, d));
            convo_emit(c, name, &cv);
        }
        free(d);
    }
}

static void vera_entry(qa_ctx *c, const char *head, char *body) {
    /* body: "ACRONYM\n       Expansion (context)\n..." */
    char *nl = strchr(body, '\n');
    if (!nl) return;
    *nl = 0;
    if (strcasecmp(squash(body), head)) return;
    head = body; /* the index holds it lowercased */
    char *exp = squash(nl + 1);
    if (!*exp || strlen(exp) > 200 || strchr(exp, '"')) return;
    if (!strncmp(exp, "see ", 4) || strchr(head, ' ')) return;
    char ctx[160] = "";
    char *par = strrchr(exp, '(');
    size_t el = strlen(exp);
    if (par && exp[el - 1] == ')' && par > exp) {
        snprintf(ctx, sizeof ctx, "%.*s", (int)(exp + el - 1 - par - 1), par + 1);
        *par = 0;
        squash(exp);
    }
    if (!*exp) return;
    convo cv = {0};
    subject_begin(c, head);
    static const char *const q[] = {"What does %s stand for?", "What is %s short for?",
                                    "Expand the acronym %s.", "What does the abbreviation %s mean?"};
    say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], head));
    if (*ctx && strcmp(ctx, "org.") && chance(c, 70))
        say(&cv, CHAT_ASSISTANT, fmt("%s stands for %s (%s).", head, exp, ctx));
    else say(&cv, CHAT_ASSISTANT, fmt("%s stands for %s.", head, exp));
    convo_emit(c, head, &cv);
}

/* GCIDE (Webster 1913): "Word \Pron\, pos. [etym.] 1. Definition; as,
 * an example. [1913 Webster]". The first sense of each headword. */
static const char *gcide_pos(const char *p, size_t n) {
    if (n == 2 && !memcmp(p, "n.", 2)) return "noun";
    if (n == 2 && !memcmp(p, "v.", 2)) return "verb";
    if (n == 2 && !memcmp(p, "a.", 2)) return "adjective";
    if (n == 4 && !memcmp(p, "adv.", 4)) return "adverb";
    return NULL;
}

static char g_gcide_last[128];

static void gcide_entry(qa_ctx *c, const char *head, char *body) {
    /* one subject per headword: the index lists a word's entries together */
    if (!strcasecmp(head, g_gcide_last)) return;
    snprintf(g_gcide_last, sizeof g_gcide_last, "%s", head);
    /* the first block: up to the first source line such as "[1913 Webster]" */
    for (char *l = strchr(body, '\n'); l; l = strchr(l + 1, '\n')) {
        char *q = l + 1;
        while (*q == ' ') q++;
        if (*q == '[') {
            char *e = strchr(q, '\n');
            char *r = e ? e : q + strlen(q);
            while (r > q && r[-1] == ' ') r--;
            if (r > q && r[-1] == ']' && !memchr(q + 1, '[', (size_t)(r - q - 1))) {
                *l = 0;
                break;
            }
        }
    }
    char *b1 = strchr(body, '\\');
    char *b2 = b1 ? strchr(b1 + 1, '\\') : NULL;
    if (!b2) return;
    char word[128];
    size_t wl = (size_t)(b1 - body);
    while (wl && body[wl - 1] == ' ') wl--;
    if (wl == 0 || wl >= sizeof word) return;
    memcpy(word, body, wl);
    word[wl] = 0;
    if (strcasecmp(word, head) || strpbrk(word, "\"[]{}\\")) return;
    /* GCIDE capitalizes every headword: "Zebra" -> "zebra" */
    int lower_rest = 1;
    for (const char *q = word + 1; *q; q++) lower_rest &= !isupper((unsigned char)*q);
    if (lower_rest) word[0] = (char)tolower((unsigned char)word[0]);
    const char *pos = NULL;
    char *p = b2 + 1;
    for (int guard = 0; guard < 40; guard++) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == ';' || *p == '&') p++;
        if (*p == '(' || *p == '[') {
            char open = *p, close = open == '(' ? ')' : ']';
            int depth = 0;
            for (; *p; p++) {
                if (*p == open) depth++;
                else if (*p == close && --depth == 0) break;
            }
            if (!*p) return;
            p++;
            continue;
        }
        /* a short abbreviation ("n.", "v.", "t.", "adv.", "pl.") */
        size_t k = 0;
        while (isalpha((unsigned char)p[k]) && k < 6) k++;
        if (k && p[k] == '.' && k <= 4 && islower((unsigned char)p[0])) {
            if (!pos) pos = gcide_pos(p, k + 1);
            p += k + 1;
            continue;
        }
        break;
    }
    if (!pos) return;
    if (p[0] == '1' && p[1] == '.') p += 2;
    while (*p == ' ' || *p == '\n') p++;
    if (*p == '(') { /* a field label: "(Zool.)" */
        char *e = strchr(p, ')');
        if (!e || e - p > 30) return;
        p = e + 1;
    }
    /* the definition: up to "; as," (examples) or the end of the sense */
    char *d = squash(xstrdup(p));
    char *cut = strstr(d, "; as,");
    if (cut) *cut = 0;
    cut = strstr(d, " 2. ");
    if (cut) *cut = 0;
    cut = strstr(d, " (b) ");
    if (cut) *cut = 0;
    if (!strncmp(d, "(a) ", 4)) memmove(d, d + 4, strlen(d + 4) + 1);
    char *w = d;
    for (char *r = d; *r; r++)
        if (*r != '{' && *r != '}') *w++ = *r;
    *w = 0;
    size_t n = strlen(d);
    while (n && (d[n - 1] == '.' || d[n - 1] == ' ' || d[n - 1] == ';' || d[n - 1] == ',')) d[--n] = 0;
    if (n >= 8 && n <= 240 && !strpbrk(d, "[]\\<>|*") && !strstr(d, "--") && isupper((unsigned char)d[0]) &&
        (islower((unsigned char)d[1]) || d[1] == ' ')) {
        d[0] = (char)tolower((unsigned char)d[0]);
        convo cv = {0};
        subject_begin(c, word);
        say(&cv, CHAT_USER, fmt(q_define[pick(c, ARRAY_LEN(q_define))], word));
        say(&cv, CHAT_ASSISTANT,
            fmt("The %s \"%s\" is %s %s meaning %s.", strchr(word, ' ') ? "term" : "word", word,
                pos[0] == 'a' ? "an" : "a", pos, d));
        convo_emit(c, word, &cv);
    }
    free(d);
}

static int read_gcide(qa_ctx *c) {
    g_gcide_last[0] = 0;
    return read_dictd(c, "gcide", "dict-gcide", gcide_entry);
}

static int read_elements(qa_ctx *c) { return read_dictd(c, "elements", "dict-elements", element_entry); }
static int read_acronyms(qa_ctx *c) { return read_dictd(c, "vera", "dict-vera", vera_entry); }

/* ======================================================================
 * ISO codes (countries, currencies, languages), capitals, airports
 * ====================================================================== */

static cJSON *read_json(const char *path, const char *package) {
    size_t len;
    char *s = need_file(path, package, &len);
    if (!s) return NULL;
    cJSON *j = cJSON_ParseWithLength(s, len);
    free(s);
    if (!j) err_set("'%s' is not valid JSON", path);
    return j;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

typedef struct {
    char a2[3];
    char *name;
} country;

static country *g_countries;
static int g_n_countries;

static int load_countries(void) {
    if (g_countries) return 0;
    cJSON *j = read_json("/usr/share/iso-codes/json/iso_3166-1.json", "iso-codes");
    if (!j) return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "3166-1"), *e;
    g_countries = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *g_countries);
    cJSON_ArrayForEach(e, arr) {
        const char *a2 = jstr(e, "alpha_2"), *nm = jstr(e, "common_name");
        if (!nm) nm = jstr(e, "name");
        if (!a2 || !nm) continue;
        snprintf(g_countries[g_n_countries].a2, 3, "%s", a2);
        g_countries[g_n_countries].name = xstrdup(nm);
        g_n_countries++;
    }
    cJSON_Delete(j);
    return 0;
}

static const char *country_name(const char *a2) {
    for (int i = 0; i < g_n_countries; i++)
        if (!strcmp(g_countries[i].a2, a2)) return g_countries[i].name;
    return NULL;
}

static int read_countries(qa_ctx *c) {
    if (load_countries()) return -1;
    cJSON *j = read_json("/usr/share/iso-codes/json/iso_3166-1.json", "iso-codes");
    if (!j) return -1;
    /* capitals from miscfiles: "num:A2:A3:name:capital" */
    size_t clen = 0;
    char *caps = corpus_slurp("/usr/share/misc/countries.gz", &clen);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "3166-1"), *e;
    convo cv = {0};
    cJSON_ArrayForEach(e, arr) {
        const char *a2 = jstr(e, "alpha_2"), *a3 = jstr(e, "alpha_3"), *nm = jstr(e, "name");
        const char *common = jstr(e, "common_name"), *official = jstr(e, "official_name");
        if (!a2 || !a3 || !nm) continue;
        const char *name = common ? common : nm;
        c->cur->n_subjects++;
        char capital[128] = "";
        if (caps) {
            char key[8];
            snprintf(key, sizeof key, ":%s:%s:", a2, a3);
            char *p = strstr(caps, key);
            if (p) {
                p = strchr(p + 8, ':');
                if (p) {
                    char *end = strchr(p + 1, '\n');
                    size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
                    if (n < sizeof capital) snprintf(capital, sizeof capital, "%.*s", (int)n, p + 1);
                }
            }
        }
        subject_begin(c, name);
        if (*capital) {
            static const char *const q[] = {"What is the capital of %s?",
                                            "Which city is the capital of %s?",
                                            "Capital of %s?", "What's %s's capital city?"};
            say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], name));
            say(&cv, CHAT_ASSISTANT, fmt("The capital of %s is %s.", name, capital));
            if (chance(c, 40)) {
                say(&cv, CHAT_USER, xstrdup("And what is its two-letter country code?"));
                say(&cv, CHAT_ASSISTANT,
                    fmt("The ISO 3166 two-letter code of %s is %s.", name, a2));
            }
            convo_emit(c, name, &cv);
        }
        static const char *const qc[] = {"What is the ISO country code of %s?",
                                         "What are the country codes for %s?"};
        static const char *const qr[] = {"Which country has the ISO code %s?",
                                         "What country is %s?"};
        if (chance(c, 50)) {
            say(&cv, CHAT_USER, fmt(qc[pick(c, ARRAY_LEN(qc))], name));
            say(&cv, CHAT_ASSISTANT,
                fmt("%s has the ISO 3166-1 codes %s (two letters) and %s (three letters).", name,
                    a2, a3));
        } else {
            const char *code = chance(c, 50) ? a2 : a3;
            say(&cv, CHAT_USER, fmt(qr[pick(c, ARRAY_LEN(qr))], code));
            say(&cv, CHAT_ASSISTANT, fmt("%s is the ISO 3166-1 code of %s.", code, name));
        }
        convo_emit(c, name, &cv);
        if (official && strcmp(official, name)) {
            say(&cv, CHAT_USER, fmt("What is the official name of %s?", name));
            say(&cv, CHAT_ASSISTANT, fmt("The official name of %s is the %s.", name, official));
            convo_emit(c, name, &cv);
        }
    }
    free(caps);
    cJSON_Delete(j);
    return 0;
}

static int read_currencies(qa_ctx *c) {
    cJSON *j = read_json("/usr/share/iso-codes/json/iso_4217.json", "iso-codes");
    if (!j) return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "4217"), *e;
    convo cv = {0};
    cJSON_ArrayForEach(e, arr) {
        const char *code = jstr(e, "alpha_3"), *nm = jstr(e, "name");
        if (!code || !nm) continue;
        c->cur->n_subjects++;
        subject_begin(c, nm);
        if (chance(c, 50)) {
            static const char *const q[] = {"What is the currency code for the %s?",
                                            "Which ISO 4217 code does the %s have?"};
            say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], nm));
            say(&cv, CHAT_ASSISTANT, fmt("The ISO 4217 code of the %s is %s.", nm, code));
        } else {
            static const char *const q[] = {"Which currency has the code %s?",
                                            "What currency is %s?"};
            say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], code));
            say(&cv, CHAT_ASSISTANT, fmt("%s is the ISO 4217 code of the %s.", code, nm));
        }
        convo_emit(c, nm, &cv);
    }
    cJSON_Delete(j);
    return 0;
}

static int read_languages(qa_ctx *c) {
    cJSON *j = read_json("/usr/share/iso-codes/json/iso_639-2.json", "iso-codes");
    if (!j) return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "639-2"), *e;
    convo cv = {0};
    cJSON_ArrayForEach(e, arr) {
        const char *a3 = jstr(e, "alpha_3"), *a2 = jstr(e, "alpha_2"), *nm = jstr(e, "name");
        if (!a3 || !nm || strchr(nm, '(') || strstr(nm, "languages")) continue;
        c->cur->n_subjects++;
        subject_begin(c, nm);
        static const char *const q[] = {"What is the ISO 639 code for %s?",
                                        "Which language code does %s have?"};
        say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], nm));
        if (a2)
            say(&cv, CHAT_ASSISTANT,
                fmt("The ISO 639 codes for %s are %s (two letters) and %s (three letters).", nm,
                    a2, a3));
        else say(&cv, CHAT_ASSISTANT, fmt("The ISO 639-2 code for %s is %s.", nm, a3));
        convo_emit(c, nm, &cv);
    }
    cJSON_Delete(j);
    return 0;
}

static int read_airports(qa_ctx *c) {
    if (load_countries()) return -1;
    size_t len;
    char *s = need_file("/usr/share/misc/airport.gz", "miscfiles", &len);
    if (!s) return -1;
    char *save = NULL;
    convo cv = {0};
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#') continue;
        char *f[5] = {0};
        int n = 0;
        for (char *p = l; n < 5; n++) {
            f[n] = p;
            char *q = strchr(p, ':');
            if (!q) {
                n++;
                break;
            }
            *q = 0;
            p = q + 1;
        }
        if (n < 5 || strlen(f[0]) != 3 || !*f[1]) continue;
        const char *cn = country_name(f[2]);
        if (!cn) continue;
        c->cur->n_subjects++;
        const char *city = *f[4] ? f[4] : f[1];
        subject_begin(c, f[0]);
        static const char *const q[] = {"Which airport has the code %s?",
                                        "Where does a flight to %s land?",
                                        "What airport is %s?"};
        say(&cv, CHAT_USER, fmt(q[pick(c, ARRAY_LEN(q))], f[0]));
        if (strcmp(city, f[1]))
            say(&cv, CHAT_ASSISTANT,
                fmt("%s is the code of %s airport in %s, serving %s.", f[0], f[1], cn, city));
        else say(&cv, CHAT_ASSISTANT, fmt("%s is the code of the airport of %s, %s.", f[0], city, cn));
        convo_emit(c, f[0], &cv);
    }
    free(s);
    return 0;
}

/* ======================================================================
 * GNU units: "How many feet are in a mile?"
 * ====================================================================== */

/* English plural of a unit name ("foot" -> "feet", "inch" -> "inches"). */
static char *plural(const char *u) {
    size_t n = strlen(u);
    if (!strcmp(u, "foot")) return xstrdup("feet");
    if (n > 4 && !strcmp(u + n - 4, "foot")) return fmt("%.*sfeet", (int)(n - 4), u);
    if (n && (u[n - 1] == 's' || u[n - 1] == 'x' || (n > 1 && u[n - 1] == 'h' && strchr("cs", u[n - 2]))))
        return fmt("%ses", u);
    if (n > 1 && u[n - 1] == 'y' && !strchr("aeiou", u[n - 2])) return fmt("%.*sies", (int)(n - 1), u);
    return fmt("%ss", u);
}

static int read_units(qa_ctx *c) {
    size_t len;
    char *s = need_file("/usr/share/units/definitions.units", "units", &len);
    if (!s) return -1;
    /* aliases: "ft  foot" (a name defined as another single name) */
    typedef struct { char name[32], def[32]; } alias;
    alias *al = NULL;
    int n_al = 0;
    typedef struct { char name[32], num[32], unit[32]; } udef;
    udef *ud = NULL;
    int n_ud = 0;
    char *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char a[64], b[64], d[64];
        char *hash = strchr(l, '#');
        if (hash) *hash = 0;
        int k = sscanf(l, "%63s %63s %63s", a, b, d);
        if (!islower((unsigned char)a[0])) continue;
        int ok = 1;
        for (char *p = a; *p; p++) ok &= islower((unsigned char)*p) || *p == '_';
        if (!ok || strlen(a) >= 32) continue;
        if (k == 2 && islower((unsigned char)b[0]) && strlen(b) < 32 && !strpbrk(b, "/*^()+-0123456789")) {
            al = xrealloc(al, (size_t)(n_al + 1) * sizeof *al);
            snprintf(al[n_al].name, 32, "%.31s", a);
            snprintf(al[n_al].def, 32, "%.31s", b);
            n_al++;
        } else if (k == 3 && isdigit((unsigned char)b[0]) && strspn(b, "0123456789.") == strlen(b) &&
                   islower((unsigned char)d[0]) && strlen(d) < 32 && !strpbrk(d, "/*^()+-0123456789")) {
            ud = xrealloc(ud, (size_t)(n_ud + 1) * sizeof *ud);
            snprintf(ud[n_ud].name, 32, "%.31s", a);
            snprintf(ud[n_ud].num, 32, "%.31s", b);
            snprintf(ud[n_ud].unit, 32, "%.31s", d);
            n_ud++;
        }
    }
    convo cv = {0};
    for (int i = 0; i < n_ud; i++) {
        const char *unit = ud[i].unit;
        /* expand an abbreviation to its name when it is one hop away */
        for (int k = 0; k < n_al; k++)
            if (!strcmp(al[k].name, unit) && strlen(al[k].def) > strlen(unit)) unit = al[k].def;
        char name[32], u[32];
        snprintf(name, sizeof name, "%s", ud[i].name);
        snprintf(u, sizeof u, "%s", unit);
        for (char *p = name; *p; p++) if (*p == '_') *p = ' ';
        for (char *p = u; *p; p++) if (*p == '_') *p = ' ';
        if (!strcmp(name, u)) continue;
        c->cur->n_subjects++;
        subject_begin(c, name);
        static const char *const q[] = {"How many %s are in one %s?", "How big is one %s?",
                                        "Convert one %s to %s."};
        int r = pick(c, 3);
        char *us = strcmp(ud[i].num, "1") ? plural(u) : xstrdup(u);
        if (r == 0) say(&cv, CHAT_USER, fmt(q[0], us, name));
        else if (r == 1) say(&cv, CHAT_USER, fmt(q[1], name));
        else say(&cv, CHAT_USER, fmt(q[2], name, us));
        say(&cv, CHAT_ASSISTANT, fmt("One %s is %s %s.", name, ud[i].num, us));
        free(us);
        convo_emit(c, name, &cv);
    }
    free(al);
    free(ud);
    free(s);
    return 0;
}

/* ======================================================================
 * FAQs written by people: perlfaq (POD) and the Python FAQ (reST)
 * ====================================================================== */

/* Cuts text to at most max bytes at a paragraph boundary; 0 if even the
 * first paragraph is longer. */
static int cut_paragraphs(char *t, size_t max) {
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1])) t[--n] = 0;
    if (n <= max) return n > 0;
    size_t best = 0;
    for (char *p = strstr(t, "\n\n"); p && (size_t)(p - t) <= max; p = strstr(p + 2, "\n\n"))
        best = (size_t)(p - t);
    if (!best) return 0;
    t[best] = 0;
    return 1;
}

static void faq_emit(qa_ctx *c, const char *q, char *answer) {
    if (!cut_paragraphs(answer, c->o->max_answer_chars)) return;
    c->cur->n_subjects++;
    convo cv = {0};
    subject_begin(c, q);
    static const char *const pre[] = {"", "", "", "Quick question: ", "I have a question. ",
                                      "Can you help me? "};
    say(&cv, CHAT_USER, fmt("%s%s", pre[pick(c, ARRAY_LEN(pre))], q));
    say(&cv, CHAT_ASSISTANT, xstrdup(answer));
    convo_emit(c, q, &cv);
}

static int read_perlfaq(qa_ctx *c) {
    int found = 0;
    for (int k = 1; k <= 9; k++) {
        char path[128];
        snprintf(path, sizeof path, "/usr/share/perl/5.36.0/pod/perlfaq%d.pod", k);
        size_t len;
        char *s = file_read_all(path, &len);
        if (!s) continue;
        found++;
        /* sections: "=head2 Question?" up to the next =head */
        char *p = strstr(s, "\n=head2 ");
        while (p) {
            char *q = p + 8;
            char *qe = strchr(q, '\n');
            if (!qe) break;
            char *next = strstr(qe, "\n=head");
            char *body_end = next ? next : s + len;
            char *question = squash(xstrndup(q, (size_t)(qe - q)));
            if (question[strlen(question) - 1] == '?') {
                size_t bl = (size_t)(body_end - qe);
                char *pod = xmalloc(bl + 8);
                memcpy(pod, "=pod\n\n", 6);
                memcpy(pod + 6, qe, bl);
                pod[6 + bl] = 0;
                size_t tl;
                char *text = text_from_pod(pod, 6 + bl, &tl);
                /* the plain-text question: drop POD codes like C<...> */
                size_t ql;
                char *qpod = fmt("=pod\n\n%s\n", question);
                char *qtext = text_from_pod(qpod, strlen(qpod), &ql);
                squash(qtext);
                /* drop leading blank lines of the answer */
                char *a = text;
                while (*a == '\n') a++;
                if (*qtext && strlen(a) > 20) faq_emit(c, qtext, a);
                free(qpod), free(qtext), free(text), free(pod);
            }
            free(question);
            p = next;
        }
        free(s);
    }
    if (!found)
        return err_set("cannot read '/usr/share/perl/5.36.0/pod/perlfaq1.pod' (install the "
                       "Debian package 'perl-doc': apt-get install perl-doc)");
    return 0;
}

/* reST inline markup to plain text: ``x`` -> x, :role:`x <y>` -> x,
 * `text <url>`_ -> text, *x* -> x. */
static char *rst_plain(const char *s) {
    size_t n = strlen(s);
    char *o = xmalloc(n + 1), *w = o;
    for (size_t i = 0; i < n;) {
        if (s[i] == ':' && i + 1 < n && isalpha((unsigned char)s[i + 1])) {
            /* :role:`...` */
            size_t j = i + 1;
            while (j < n && (isalnum((unsigned char)s[j]) || s[j] == ':' || s[j] == '-')) j++;
            if (j < n && s[j] == '`' && s[j - 1] == ':') {
                i = j;
                continue;
            }
        }
        if (s[i] == '`') {
            size_t j = i + 1;
            int dbl = j < n && s[j] == '`';
            if (dbl) j++;
            size_t st = j;
            while (j < n && s[j] != '`') j++;
            size_t en = j;
            /* "text <target>" keeps the text */
            const char *lt = memchr(s + st, '<', en - st);
            if (!dbl && lt && en > st && s[en - 1] == '>') en = (size_t)(lt - s);
            while (en > st && s[en - 1] == ' ') en--;
            const char *t0 = s + st;
            if (!dbl && *t0 == '~') t0++, st++;
            memcpy(w, s + st, en - st);
            w += en - st;
            j++;
            if (dbl && j < n && s[j] == '`') j++;
            while (j < n && s[j] == '_') j++;
            i = j;
            continue;
        }
        *w++ = s[i++];
    }
    *w = 0;
    return o;
}

static int read_pythonfaq(qa_ctx *c) {
    static const char *const files[] = {"general", "programming", "design", "library",
                                        "extending", "windows", "gui", "installed"};
    int found = 0;
    for (size_t k = 0; k < ARRAY_LEN(files); k++) {
        char path[160];
        snprintf(path, sizeof path, "/usr/share/doc/python3.11/html/_sources/faq/%s.rst.txt",
                 files[k]);
        size_t len;
        char *s = file_read_all(path, &len);
        if (!s) continue;
        found++;
        /* lines; a heading is a line followed by an underline of = - ~ ^ */
        size_t nl = 0, cap = 1024;
        char **lines = xmalloc(cap * sizeof *lines);
        for (char *p = s;;) {
            if (nl == cap) lines = xrealloc(lines, (cap *= 2) * sizeof *lines);
            lines[nl++] = p;
            char *e = strchr(p, '\n');
            if (!e) break;
            *e = 0;
            p = e + 1;
        }
        for (size_t i = 0; i + 1 < nl; i++) {
            size_t hl = strlen(lines[i]);
            const char *u = lines[i + 1];
            if (!hl || lines[i][hl - 1] != '?' || strlen(u) < hl || !strchr("=-~^", u[0]) ||
                strspn(u, "=-~^") != strlen(u))
                continue;
            size_t j = i + 2;
            conv_buf b = {0};
            conv_buf_puts(&b, "");
            for (; j < nl; j++) {
                if (j + 1 < nl && strlen(lines[j]) && strlen(lines[j + 1]) >= strlen(lines[j]) &&
                    strchr("=-~^", lines[j + 1][0]) && lines[j + 1][0] &&
                    strspn(lines[j + 1], "=-~^") == strlen(lines[j + 1]))
                    break;
                const char *l = lines[j];
                if (!strncmp(l, ".. ", 3)) continue; /* directives and comments */
                char *pl = xstrdup(l);
                size_t pn = strlen(pl);
                /* "text::" introduces a code block: keep one colon */
                if (pn >= 2 && !strcmp(pl + pn - 2, "::")) pl[pn - 1] = 0;
                conv_buf_puts(&b, pl);
                conv_buf_puts(&b, "\n");
                free(pl);
            }
            char *q = rst_plain(lines[i]);
            char *plain = rst_plain(b.s);
            conv_buf_free(&b);
            b.s = plain;
            char *a = b.s;
            while (*a == '\n') a++;
            /* collapse runs of blank lines */
            char *w = a;
            for (char *r = a; *r; r++) {
                if (*r == '\n' && w - a >= 2 && w[-1] == '\n' && w[-2] == '\n') continue;
                *w++ = *r;
            }
            *w = 0;
            if (strlen(a) > 20) faq_emit(c, squash(q), a);
            free(q);
            conv_buf_free(&b);
            i = j - 1;
        }
        free(lines);
        free(s);
    }
    if (!found)
        return err_set("cannot read the Python FAQ in '/usr/share/doc/python3.11/html/_sources/faq' "
                       "(install the Debian package 'python3.11-doc')");
    return 0;
}

/* ======================================================================
 * The sources and the build
 * ====================================================================== */

typedef struct {
    const char *name, *package, *license, *what;
    const char *files; /* what the reader opens (globs): checked before any source is read */
    int (*read)(qa_ctx *c);
} qa_source;

#define DICTD(n) "/usr/share/dictd/" n ".index /usr/share/dictd/" n ".dict.dz"
#define ISO "/usr/share/iso-codes/json/"
static const qa_source g_sources[] = {
    {"wordnet", "wordnet-base", "WordNet (BSD-like)",
     "definitions, examples, synonyms, antonyms, kinds of things",
     "/usr/share/wordnet/data.noun /usr/share/wordnet/data.verb /usr/share/wordnet/data.adj "
     "/usr/share/wordnet/data.adv", read_wordnet},
    {"gcide", "dict-gcide", "GPL-2+", "Webster 1913 definitions (first sense)", DICTD("gcide"), read_gcide},
    {"elements", "dict-elements", "public domain", "chemical symbols, numbers, weights", DICTD("elements"),
     read_elements},
    {"countries", "iso-codes miscfiles", "LGPL-2.1 / GPL-2", "capitals, ISO country codes",
     ISO "iso_3166-1.json /usr/share/misc/countries.gz", read_countries},
    {"currencies", "iso-codes", "LGPL-2.1", "ISO 4217 currency codes", ISO "iso_4217.json", read_currencies},
    {"languages", "iso-codes", "LGPL-2.1", "ISO 639 language codes", ISO "iso_639-2.json", read_languages},
    {"airports", "miscfiles", "GPL-2", "IATA airport codes", "/usr/share/misc/airport.gz", read_airports},
    {"acronyms", "dict-vera", "GFDL", "what acronyms stand for", DICTD("vera"), read_acronyms},
    {"units", "units", "GPL-3", "unit conversions", "/usr/share/units/definitions.units", read_units},
    {"perlfaq", "perl-doc", "GPL/Artistic", "the Perl FAQ, written by people",
     "/usr/share/perl/5.36.0/pod/perlfaq[1-9].pod", read_perlfaq},
    {"pythonfaq", "python3.11-doc", "PSF", "the Python FAQ, written by people",
     "/usr/share/doc/python3.11/html/_sources/faq/*.rst.txt", read_pythonfaq},
};
#undef DICTD
#undef ISO

void qa_opts_default(qa_opts *o) {
    memset(o, 0, sizeof *o);
    o->out_path = "chats.jsonl";
    o->heldout_frac = 0.05;
    o->max_answer_chars = 1500;
    o->seed = 1;
}

void qa_list_sources(FILE *f) {
    for (size_t i = 0; i < ARRAY_LEN(g_sources); i++)
        fprintf(f, "  %-11s %-20s %s\n", g_sources[i].name, g_sources[i].package,
                g_sources[i].what);
}

static int source_wanted(const char *list, const char *name) {
    if (!list || !*list || !strcmp(list, "all")) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !memcmp(p, name, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

int qa_sources_needs(const char *list, data_needs *d) {
    /* every named source must exist */
    if (list && *list && strcmp(list, "all")) {
        for (const char *p = list; *p;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            int ok = 0;
            for (size_t i = 0; i < ARRAY_LEN(g_sources); i++)
                ok |= strlen(g_sources[i].name) == l && !memcmp(g_sources[i].name, p, l);
            if (!ok) return err_set("unknown source '%.*s' (see llmos data chats --help)", (int)l, p);
            if (!e) break;
            p = e + 1;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(g_sources); i++) {
        if (!source_wanted(list, g_sources[i].name)) continue;
        char what[64];
        snprintf(what, sizeof what, "chats %s", g_sources[i].name);
        data_needs_add(d, what, g_sources[i].package, g_sources[i].files);
    }
    return 0;
}

int qa_build(const qa_opts *o, qa_stats *st) {
    memset(st, 0, sizeof *st);
    /* every wanted source present before the first is read */
    data_needs d = {0};
    if (qa_sources_needs(o->sources, &d)) return -1;
    char *pkgs = NULL;
    size_t n_missing = data_needs_check(&d, stderr, &pkgs);
    data_needs_free(&d);
    if (n_missing) {
        err_set("%zu conversation source(s) not installed (as root: apt-get install %s)", n_missing, pkgs);
        free(pkgs);
        return -1;
    }
    qa_ctx c = {0};
    c.o = o;
    if (atomic_open(&c.train, o->out_path)) return -1;
    if (o->heldout_path) {
        if (atomic_open(&c.held, o->heldout_path)) {
            atomic_abort(&c.train);
            return -1;
        }
        c.has_held = 1;
    }
    int rc = 0;
    for (size_t i = 0; i < ARRAY_LEN(g_sources) && !rc; i++) {
        if (!source_wanted(o->sources, g_sources[i].name)) continue;
        qa_source_stats *s = &st->src[st->n_src++];
        snprintf(s->name, sizeof s->name, "%s", g_sources[i].name);
        c.cur = s;
        double t0 = time_now();
        if (!o->quiet) fprintf(stderr, "chats: %s ...\n", s->name);
        rc = g_sources[i].read(&c);
        s->seconds = time_now() - t0;
        if (rc) err_prefix(g_sources[i].name);
        if (!rc && !o->quiet)
            fprintf(stderr, "chats: %-10s %8zu conversations (%zu held out) from %zu subjects, %.1f s\n",
                    s->name, s->n_train + s->n_heldout, s->n_heldout, s->n_subjects, s->seconds);
        st->n_train += s->n_train;
        st->n_heldout += s->n_heldout;
    }
    for (int i = 0; i < g_n_countries; i++) free(g_countries[i].name);
    free(g_countries);
    g_countries = NULL;
    g_n_countries = 0;
    if (!rc && c.write_error) rc = err_set("cannot write '%s': %s", o->out_path, strerror(errno));
    if (rc) {
        atomic_abort(&c.train);
        if (c.has_held) atomic_abort(&c.held);
        return -1;
    }
    if (atomic_commit(&c.train)) {
        if (c.has_held) atomic_abort(&c.held);
        return -1;
    }
    if (c.has_held && atomic_commit(&c.held)) return -1;
    return 0;
}
