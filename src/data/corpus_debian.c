/*
 * corpus_debian.c - the built-in corpora, assembled from freely licensed
 * text in Debian's main archive: dictionaries (dictd databases), WordNet,
 * Bibles and commentaries (SWORD modules), Jane Austen's novels (an R data
 * file), fortunes, and the documentation trees of Linux, Python, Perl,
 * PostgreSQL, Django, Rust, git, Vim, GNU and Debian.
 *
 * Each Debian format is read directly:
 *   dictd     NAME.index lines "headword TAB offset TAB length" (base64
 *             numbers) into NAME.dict.dz (gzip); an entry is a document,
 *             its {cross-reference} braces and GCIDE's accent codes ([=a])
 *             turned into plain text.
 *   WordNet   data.{noun,verb,adj,adv}: one synset per line, words before
 *             the pointers and the gloss after " | ".
 *   SWORD     zText: ot/nt.bzs (block table: offset, size, raw size; 3 x u32
 *             LE), .bzz (zlib blocks), .bzv (verse table: block u32, offset
 *             u32, size u16); a block (a book) is a document, one verse a
 *             line. zCom4 commentaries: their zlib blocks are read whole,
 *             because the verse table links one text under many verses.
 *   R data    Rdata.rdb: objects as u32 BE length + zlib stream of R's XDR
 *             serialization; a character vector (a novel, one line per
 *             element) is a document.
 *   fortunes  files of entries separated by "%" lines.
 *   dpkg      the files a package installed (/var/lib/dpkg/info/PKG.list)
 *             under the source's path globs, e.g. the man pages of
 *             "manpages" only, whatever else the machine has.
 * Documentation trees go through the generic readers (corpus_read.c).
 * Paths are globbed and resolved with realpath, so a tree reached through
 * two names (/usr/share/perl/5.36 -> 5.36.0) is read once.
 */
#include "corpus.h"

#include "../core/common.h"
#include "needs.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

typedef enum { K_DICTD, K_WORDNET, K_SWORD_TEXT, K_SWORD_COMM, K_RDATA, K_FORTUNES, K_TREE, K_TREE_ANY, K_DPKG } src_kind;

typedef struct {
    const char *name, *license, *package; /* package: space-separated, may be "" */
    double weight;
    src_kind kind;
    const char *paths;    /* space-separated globs */
    const char *exclude;  /* space-separated fnmatch patterns on full paths */
} preset_src;

static const preset_src k_debian[] = {
    {"gcide", "GPL-2+", "dict-gcide", 1, K_DICTD, "/usr/share/dictd/gcide", ""},
    {"wordnet", "WordNet-3.0", "wordnet-base", 1, K_WORDNET, "/usr/share/wordnet", ""},
    {"foldoc", "GFDL-1.1+", "dict-foldoc", 1, K_DICTD, "/usr/share/dictd/foldoc", ""},
    {"jargon", "public-domain", "dict-jargon", 2, K_DICTD, "/usr/share/dictd/jargon", ""},
    {"vera", "GFDL-1.1+", "dict-vera", 1, K_DICTD, "/usr/share/dictd/vera", ""},
    {"devil", "public-domain", "dict-devil", 3, K_DICTD, "/usr/share/dictd/devil", ""},
    {"elements", "public-domain", "dict-elements", 1, K_DICTD, "/usr/share/dictd/elements", ""},
    {"kjv", "public-domain", "sword-text-kjv", 1, K_SWORD_TEXT, "/usr/share/sword/modules/texts/ztext/engKJV*", ""},
    {"web", "public-domain", "sword-text-web", 1, K_SWORD_TEXT, "/usr/share/sword/modules/texts/ztext/engWEB*", ""},
    {"tdavid", "public-domain", "sword-comm-tdavid", 1, K_SWORD_COMM, "/usr/share/sword/modules/comments/zcom/tdavid", ""},
    {"mhcc", "public-domain", "sword-comm-mhcc", 1, K_SWORD_COMM, "/usr/share/sword/modules/comments/zcom/mhcc", ""},
    {"austen", "public-domain (janeaustenr: MIT)", "r-cran-janeaustenr", 3, K_RDATA,
     "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb", ""},
    {"fortunes", "BSD-3-Clause", "fortunes", 1, K_FORTUNES, "/usr/share/games/fortunes", ""},
    {"linux-doc", "GPL-2", "linux-doc-6.1", 1, K_TREE, "/usr/share/doc/linux-doc-*/Documentation", ""},
    {"python-doc", "PSF-2.0", "python3.11-doc", 1, K_TREE, "/usr/share/doc/python3.*/html",
     "*/_sources/* */genindex* */py-modindex.html */search.html */whatsnew/changelog.html"},
    {"vim-doc", "Vim", "vim-runtime", 1, K_TREE, "/usr/share/vim/vim*/doc", ""},
    {"perl-doc", "GPL-1+ or Artistic", "perl-doc", 1, K_TREE, "/usr/share/perl/5.*/pod", ""},
    /* only the pages of these two packages: other packages' pages vary by machine */
    {"man", "free (see /usr/share/doc/manpages/copyright)", "manpages manpages-dev", 1, K_DPKG, "/usr/share/man/man*", ""},
    {"postgres-doc", "PostgreSQL", "postgresql-doc-15", 1, K_TREE, "/usr/share/doc/postgresql-doc-*/html",
     "*/bookindex.html"},
    /* gnu-standards' manuals only, for the same reason */
    {"gnu-info", "GFDL-1.3+", "gnu-standards", 1, K_DPKG, "/usr/share/info", ""},
    {"django-doc", "BSD-3-Clause", "python-django-doc", 1, K_TREE, "/usr/share/doc/python-django-doc/html",
     "*/_modules/* */_sources/* */genindex* */py-modindex.html */search.html"},
    {"rust-doc", "MIT or Apache-2.0", "rust-doc", 1, K_TREE,
     "/usr/share/doc/rust-doc/html/book /usr/share/doc/rust-doc/html/reference "
     "/usr/share/doc/rust-doc/html/rust-by-example /usr/share/doc/rust-doc/html/nomicon "
     "/usr/share/doc/rust-doc/html/edition-guide /usr/share/doc/rust-doc/html/embedded-book "
     "/usr/share/doc/rust-doc/html/rustc /usr/share/doc/rust-doc/html/rustdoc",
     "*/print.html */2018-edition/* */first-edition/* */second-edition/* */toc.html */404.html"},
    {"git-doc", "GPL-2", "git-doc", 1, K_TREE, "/usr/share/doc/git-doc", "*.html"},
    {"debian-handbook", "GPL-2+ or CC-BY-SA-3.0", "debian-handbook", 1, K_TREE,
     "/usr/share/doc/debian-handbook/html/en-US", ""},
    {"debian-reference", "GPL-2+", "debian-reference-en", 1, K_TREE, "/usr/share/debian-reference/*.en.html", ""},
    {"debian-policy", "GPL-2+", "debian-policy", 1, K_TREE, "/usr/share/doc/debian-policy/*.txt.gz", ""},
};

static const preset_src k_small[] = {
    {"kjv", "public-domain", "sword-text-kjv", 1, K_SWORD_TEXT, "/usr/share/sword/modules/texts/ztext/engKJV*", ""},
    {"austen", "public-domain (janeaustenr: MIT)", "r-cran-janeaustenr", 1, K_RDATA,
     "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb", ""},
    {"devil", "public-domain", "dict-devil", 2, K_DICTD, "/usr/share/dictd/devil", ""},
    {"jargon", "public-domain", "dict-jargon", 1, K_DICTD, "/usr/share/dictd/jargon", ""},
    {"elements", "public-domain", "dict-elements", 1, K_DICTD, "/usr/share/dictd/elements", ""},
};

/* Files present on every Debian system (base-files, essential packages). */
static const preset_src k_tiny[] = {
    {"licenses", "verbatim copying", "", 1, K_TREE_ANY, "/usr/share/common-licenses", ""},
    {"copyright", "free (Debian copyright files)", "", 1, K_TREE_ANY,
     "/usr/share/doc/base-files/copyright /usr/share/doc/bash/copyright /usr/share/doc/coreutils/copyright "
     "/usr/share/doc/dpkg/copyright /usr/share/doc/apt/copyright /usr/share/doc/tar/copyright "
     "/usr/share/doc/grep/copyright /usr/share/doc/sed/copyright /usr/share/doc/gzip/copyright "
     "/usr/share/doc/findutils/copyright /usr/share/doc/diffutils/copyright /usr/share/doc/libc6/copyright "
     "/usr/share/doc/util-linux/copyright /usr/share/doc/perl-base/copyright /usr/share/doc/login/copyright",
     ""},
};

static const struct {
    const char *name;
    const preset_src *src;
    size_t n;
    const char *about;
} k_presets[] = {
    {"debian", k_debian, ARRAY_LEN(k_debian), "about 185 MB: dictionaries, Bibles, Austen, fortunes, technical docs"},
    {"debian-small", k_small, ARRAY_LEN(k_small), "about 10 MB: KJV Bible, Austen, Devil's Dictionary, Jargon File"},
    {"tiny", k_tiny, ARRAY_LEN(k_tiny), "about 0.5 MB of license texts already on any Debian system (CI)"},
};

const char *corpus_preset_name(size_t i) { return i < ARRAY_LEN(k_presets) ? k_presets[i].name : NULL; }

void corpus_list_presets(FILE *f) {
    for (size_t i = 0; i < ARRAY_LEN(k_presets); i++)
        fprintf(f, "                          %-13s %s\n", k_presets[i].name, k_presets[i].about);
}

/* ---- dictd ----------------------------------------------------------------------- */

static int b64v(char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}
static int b64num(const char *s, size_t n, uint64_t *v) {
    *v = 0;
    if (!n) return -1;
    for (size_t i = 0; i < n; i++) {
        int d = b64v(s[i]);
        if (d < 0) return -1;
        *v = *v * 64 + (uint64_t)d;
    }
    return 0;
}

typedef struct { uint64_t off, len; } span;
static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* dictd entries mark cross-references as {word}: the braces go. GCIDE
 * writes accented letters as [=a], ['e], ["o], [=oo]: each becomes the
 * letters followed by the Unicode combining mark (macron, acute, ...). */
static size_t dictd_tidy(const char *s, size_t n, char *out) {
    static const struct { char mark; const char *utf8; } k_marks[] = {
        {'\'', "\xCC\x81"}, {'`', "\xCC\x80"}, {'=', "\xCC\x84"}, {'.', "\xCC\x87"},
        {'~', "\xCC\x83"}, {'"', "\xCC\x88"}, {'^', "\xCC\x82"},
    };
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '{' || s[i] == '}') continue;
        if (s[i] == '[' && i + 3 < n) {
            const char *m = NULL;
            for (size_t k = 0; k < ARRAY_LEN(k_marks); k++)
                if (s[i + 1] == k_marks[k].mark) m = k_marks[k].utf8;
            size_t j = i + 2;
            while (j < n && j < i + 5 && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z'))) j++;
            if (m && j > i + 2 && j < n && s[j] == ']') {
                for (size_t k = i + 2; k < j; k++) {
                    out[w++] = s[k];
                    out[w++] = m[0];
                    out[w++] = m[1];
                }
                i = j;
                continue;
            }
        }
        out[w++] = s[i];
    }
    return w;
}

void corpus_read_dictd(corpus *c, int src, const char *base) {
    char path[512];
    size_t il, dl;
    snprintf(path, sizeof path, "%s.index", base);
    char *idx = corpus_slurp(path, &il);
    if (!idx) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, err_msg()); return; }
    snprintf(path, sizeof path, "%s.dict.dz", base);
    char *dict = corpus_slurp(path, &dl);
    if (!dict) {
        snprintf(path, sizeof path, "%s.dict", base);
        dict = corpus_slurp(path, &dl);
    }
    if (!dict) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, err_msg()); free(idx); return; }
    span *sp = NULL;
    size_t n = 0, cap = 0, bad = 0;
    for (size_t i = 0; i < il;) {
        char *nl = memchr(idx + i, '\n', il - i);
        size_t e = nl ? (size_t)(nl - idx) : il;
        char *t1 = memchr(idx + i, '\t', e - i);
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(idx + e - t1 - 1)) : NULL;
        if (t1 && t2 && strncmp(idx + i, "00-database", 11) && strncmp(idx + i, "00database", 10)) {
            span s;
            size_t l3 = (size_t)(idx + e - t2 - 1);
            char *t3 = memchr(t2 + 1, '\t', l3); /* optional 4th field */
            if (t3) l3 = (size_t)(t3 - t2 - 1);
            if (b64num(t1 + 1, (size_t)(t2 - t1 - 1), &s.off) == 0 && b64num(t2 + 1, l3, &s.len) == 0 &&
                s.off + s.len <= dl) {
                if (n == cap) sp = xrealloc(sp, (cap = cap ? cap * 2 : 4096) * sizeof *sp);
                sp[n++] = s;
            } else bad++;
        }
        i = e + 1;
    }
    if (bad) corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, base, "index lines outside the dictionary");
    if (n) qsort(sp, n, sizeof *sp, cmp_span);
    char *tidy = NULL;
    size_t tcap = 0;
    for (size_t k = 0; k < n; k++) {
        if (k && sp[k].off == sp[k - 1].off && sp[k].len == sp[k - 1].len) continue; /* headword aliases */
        if (sp[k].len * 3 + 1 > tcap) tidy = xrealloc(tidy, tcap = sp[k].len * 3 + 1);
        size_t tl = dictd_tidy(dict + sp[k].off, sp[k].len, tidy);
        corpus_add(c, src, tidy, tl);
    }
    free(tidy);
    corpus_progress(c, base);
    free(sp);
    free(idx);
    free(dict);
}

/* ---- WordNet ----------------------------------------------------------------------- */

static void read_wordnet(corpus *c, int src, const char *dir) {
    static const char *files[][2] = {{"data.noun", "noun"}, {"data.verb", "verb"}, {"data.adj", "adjective"},
                                     {"data.adv", "adverb"}};
    for (size_t f = 0; f < ARRAY_LEN(files); f++) {
        char path[512];
        size_t n;
        snprintf(path, sizeof path, "%s/%s", dir, files[f][0]);
        char *s = corpus_slurp(path, &n);
        if (!s) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, err_msg()); continue; }
        char *doc = xmalloc(1 << 16);
        for (size_t i = 0; i < n;) {
            char *nl = memchr(s + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - s) : n;
            if (e - i > 2 && s[i] != ' ') {
                s[e] = 0;
                char *line = s + i, *gloss = strstr(line, " | ");
                if (gloss) {
                    *gloss = 0;
                    gloss += 3;
                    /* offset lex_filenum ss_type w_cnt(hex) {word lex_id} ... */
                    char *save = NULL, *tok;
                    int field = 0, words = 0, wcnt = 0;
                    size_t w = 0;
                    for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
                        if (field == 3) wcnt = (int)strtol(tok, NULL, 16);
                        else if (field >= 4 && field < 4 + 2 * wcnt && (field - 4) % 2 == 0) {
                            char *paren = strchr(tok, '('); /* adjective markers: word(a) */
                            if (paren) *paren = 0;
                            size_t tl = strlen(tok);
                            if (w + tl + 4 >= (1 << 15)) break;
                            if (words++) { doc[w++] = ','; doc[w++] = ' '; }
                            for (size_t k = 0; k < tl; k++) doc[w++] = tok[k] == '_' ? ' ' : tok[k];
                        } else if (field >= 4 + 2 * wcnt) break;
                    }
                    size_t gl = strlen(gloss);
                    while (gl && (gloss[gl - 1] == ' ')) gl--;
                    int hl = snprintf(doc + w, 64, " (%s): ", files[f][1]);
                    w += (size_t)hl;
                    size_t take = MIN(gl, (size_t)(1 << 16) - w - 1);
                    memcpy(doc + w, gloss, take);
                    w += take;
                    corpus_add(c, src, doc, w);
                }
            }
            i = e + 1;
        }
        free(doc);
        free(s);
        corpus_progress(c, path);
    }
}

/* ---- SWORD modules --------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Decompresses block b of a SWORD module; NULL when out of range or corrupt. */
static char *sword_block(const unsigned char *bs, size_t bsn, const unsigned char *bz, size_t bzn, size_t b, size_t *len) {
    if ((b + 1) * 12 > bsn) return NULL;
    uint32_t off = le32(bs + b * 12), size = le32(bs + b * 12 + 4), raw = le32(bs + b * 12 + 8);
    if ((uint64_t)off + size > bzn || raw > (1u << 28)) return NULL;
    uLongf out = raw + 1;
    char *p = xmalloc(out + 1);
    if (uncompress((Bytef *)p, &out, bz + off, size) != Z_OK) {
        free(p);
        return NULL;
    }
    p[out] = 0;
    *len = out;
    return p;
}

static void read_sword(corpus *c, int src, const char *dir, int commentary) {
    static const char *testaments[] = {"ot", "nt"};
    for (int t = 0; t < 2; t++) {
        char ps[512], pz[512], pv[512];
        size_t bsn, bzn, bvn = 0;
        const char *pre = "bz";
        snprintf(ps, sizeof ps, "%s/%s.bzs", dir, testaments[t]);
        if (access(ps, F_OK) != 0) pre = "cz";
        snprintf(ps, sizeof ps, "%s/%s.%ss", dir, testaments[t], pre);
        snprintf(pz, sizeof pz, "%s/%s.%sz", dir, testaments[t], pre);
        snprintf(pv, sizeof pv, "%s/%s.%sv", dir, testaments[t], pre);
        if (access(ps, F_OK) != 0) continue; /* a module of one testament */
        unsigned char *bs = (unsigned char *)file_read_all(ps, &bsn);
        unsigned char *bz = bs ? (unsigned char *)file_read_all(pz, &bzn) : NULL;
        unsigned char *bv = bz && !commentary ? (unsigned char *)file_read_all(pv, &bvn) : NULL;
        if (!bs || !bz || (!commentary && !bv)) {
            corpus_skip(c, CORPUS_SKIP_UNREADABLE, dir, err_msg());
            free(bs); free(bz); free(bv);
            continue;
        }
        size_t nblocks = bsn / 12, bad = 0;
        if (commentary) {
            for (size_t b = 0; b < nblocks; b++) {
                size_t len, tl;
                char *raw = sword_block(bs, bsn, bz, bzn, b, &len);
                if (!raw) { bad++; continue; }
                char *txt = text_from_html(raw, len, &tl);
                corpus_add(c, src, txt, tl);
                free(txt);
                free(raw);
            }
        } else {
            /* verses in order; a new document at each block (book) */
            size_t cur = SIZE_MAX, blen = 0, dl = 0, dcap = 1 << 16;
            char *blk = NULL, *doc = xmalloc(dcap);
            for (size_t v = 0; v + 10 <= bvn; v += 10) {
                uint32_t b = le32(bv + v), off = le32(bv + v + 4);
                uint32_t size = (uint32_t)bv[v + 8] | (uint32_t)bv[v + 9] << 8;
                if (!size) continue;
                if (b != cur) {
                    if (dl) corpus_add(c, src, doc, dl);
                    dl = 0;
                    free(blk);
                    blk = sword_block(bs, bsn, bz, bzn, b, &blen);
                    cur = b;
                    if (!blk) bad++;
                }
                if (!blk || (size_t)off + size > blen) continue;
                size_t tl;
                char *txt = text_from_html(blk + off, size, &tl);
                for (size_t k = 0; k < tl; k++) if (txt[k] == '\n') txt[k] = ' ';
                if (dl + tl + 2 > dcap) doc = xrealloc(doc, dcap = (dl + tl + 2) * 2);
                memcpy(doc + dl, txt, tl);
                dl += tl;
                doc[dl++] = '\n';
                free(txt);
            }
            if (dl) corpus_add(c, src, doc, dl);
            free(blk);
            free(doc);
        }
        if (bad) corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, pz, "corrupt compressed blocks");
        corpus_progress(c, dir);
        free(bs);
        free(bz);
        free(bv);
    }
}

/* ---- R data (janeaustenr) ------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Appends the elements of a serialized character vector, one per line.
 * Returns 0, or -1 when the object is something else. */
static int rdata_strings(const unsigned char *p, size_t n, char **out, size_t *outn) {
    size_t i = 0;
    if (n < 14 || p[0] != 'X' || p[1] != '\n') return -1;
    i = 2;
    uint32_t version = be32(p + i);
    i += 12;
    if (version == 3) {
        if (i + 4 > n) return -1;
        uint32_t nl = be32(p + i);
        i += 4 + nl;
    }
    if (i + 8 > n) return -1;
    uint32_t flags = be32(p + i);
    if ((flags & 0xFF) != 16) return -1; /* STRSXP */
    uint64_t len = be32(p + i + 4);
    i += 8;
    if (len == 0xFFFFFFFFu) {
        if (i + 8 > n) return -1;
        len = (uint64_t)be32(p + i) << 32 | be32(p + i + 4);
        i += 8;
    }
    size_t cap = n + 16, w = 0;
    char *s = xmalloc(cap);
    for (uint64_t k = 0; k < len; k++) {
        if (i + 8 > n) break;
        int32_t sl = (int32_t)be32(p + i + 4);
        i += 8;
        if (sl > 0) {
            if (i + (size_t)sl > n) break;
            if (w + (size_t)sl + 2 > cap) s = xrealloc(s, cap = (w + (size_t)sl + 2) * 2);
            memcpy(s + w, p + i, (size_t)sl);
            w += (size_t)sl;
            i += (size_t)sl;
        }
        s[w++] = '\n';
    }
    *out = s;
    *outn = w;
    return 0;
}

static void read_rdata(corpus *c, int src, const char *path) {
    size_t n;
    unsigned char *p = (unsigned char *)file_read_all(path, &n);
    if (!p) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, err_msg()); return; }
    size_t i = 0, bad = 0;
    while (i + 6 <= n) {
        uint32_t raw = be32(p + i);
        i += 4;
        if (raw > (1u << 30)) { bad++; break; }
        z_stream z = {0};
        char *out = xmalloc((size_t)raw + 1);
        if (inflateInit(&z) != Z_OK) { free(out); bad++; break; }
        z.next_in = p + i;
        z.avail_in = (uInt)(n - i);
        z.next_out = (Bytef *)out;
        z.avail_out = raw;
        int zr = inflate(&z, Z_FINISH);
        size_t used = (size_t)(z.next_in - (p + i));
        inflateEnd(&z);
        if (zr != Z_STREAM_END) { free(out); bad++; break; }
        i += used;
        char *txt;
        size_t tl;
        if (rdata_strings((unsigned char *)out, raw, &txt, &tl) == 0) {
            corpus_add(c, src, txt, tl);
            free(txt);
        }
        free(out);
    }
    if (bad) corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, path, "unreadable R data object");
    corpus_progress(c, path);
    free(p);
}

/* ---- fortunes --------------------------------------------------------------------------------- */

static void read_fortunes(corpus *c, int src, const char *dir) {
    glob_t g;
    char pat[512];
    snprintf(pat, sizeof pat, "%s/*", dir);
    if (glob(pat, 0, NULL, &g) != 0) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, dir, "no fortune files"); return; }
    for (size_t f = 0; f < g.gl_pathc; f++) {
        const char *path = g.gl_pathv[f];
        struct stat st;
        if (strchr(strrchr(path, '/') + 1, '.') || lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        size_t n;
        char *s = corpus_slurp(path, &n);
        if (!s) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, err_msg()); continue; }
        size_t start = 0;
        for (size_t i = 0; i <= n;) {
            char *nl = i < n ? memchr(s + i, '\n', n - i) : NULL;
            size_t e = nl ? (size_t)(nl - s) : n;
            if ((e - i == 1 && s[i] == '%') || i >= n || !nl) {
                size_t end = (e - i == 1 && s[i] == '%') ? i : e;
                if (end > start) corpus_add(c, src, s + start, end - start);
                start = e + 1;
            }
            if (!nl) break;
            i = e + 1;
        }
        free(s);
        corpus_progress(c, path);
    }
    globfree(&g);
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- files of packages --------------------------------------------------------------------------- */

static void read_dpkg(corpus *c, int src, const preset_src *s) {
    char pk[256];
    snprintf(pk, sizeof pk, "%s", s->package);
    for (char *save = NULL, *p = strtok_r(pk, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        char lp[512];
        size_t n;
        snprintf(lp, sizeof lp, "/var/lib/dpkg/info/%s.list", p);
        char *list = file_read_all(lp, &n);
        if (!list) {
            snprintf(lp, sizeof lp, "/var/lib/dpkg/info/%s:all.list", p);
            list = file_read_all(lp, &n);
        }
        if (!list) { corpus_skip(c, CORPUS_SKIP_UNREADABLE, lp, err_msg()); continue; }
        char **files = NULL;
        size_t nf = 0;
        for (char *save2 = NULL, *f = strtok_r(list, "\n", &save2); f; f = strtok_r(NULL, "\n", &save2)) {
            int want = 0;
            char pats[512];
            snprintf(pats, sizeof pats, "%s", s->paths);
            for (char *save3 = NULL, *g = strtok_r(pats, " ", &save3); g && !want; g = strtok_r(NULL, " ", &save3)) {
                size_t gl = strlen(g);
                char pre[512];
                snprintf(pre, sizeof pre, "%s/*", g);
                want = fnmatch(pre, f, 0) == 0 && gl > 0;
            }
            struct stat st;
            if (want && lstat(f, &st) == 0 && S_ISREG(st.st_mode)) {
                files = xrealloc(files, (nf + 1) * sizeof *files);
                files[nf++] = f;
            }
        }
        if (nf) qsort(files, nf, sizeof *files, cmp_cstr);
        for (size_t k = 0; k < nf; k++) corpus_read_path(c, src, files[k], s->exclude, 0);
        free(files);
        free(list);
    }
}

/* ---- presets ---------------------------------------------------------------------------------------- */

static void read_source(corpus *c, const preset_src *s, char ***seen, size_t *nseen) {
    int src = corpus_source(c, s->name, s->license);
    corpus_set_weight(c, s->name, s->weight);
    if (s->kind == K_DPKG) {
        read_dpkg(c, src, s);
        return;
    }
    char *paths = xstrdup(s->paths), *save = NULL;
    for (char *pat = strtok_r(paths, " ", &save); pat; pat = strtok_r(NULL, " ", &save)) {
        glob_t g;
        int gr = glob(pat, GLOB_NOCHECK, NULL, &g);
        for (size_t k = 0; gr == 0 && k < g.gl_pathc; k++) {
            const char *p = g.gl_pathv[k];
            char *real = realpath(p, NULL);
            if (!real) {
                if (s->kind == K_DICTD) real = xstrdup(p); /* a base name, not a file */
                else { corpus_skip(c, CORPUS_SKIP_UNREADABLE, p, strerror(errno)); continue; }
            }
            int dup = 0;
            for (size_t i = 0; i < *nseen; i++) dup |= !strcmp((*seen)[i], real);
            if (dup) { free(real); continue; } /* one tree under two names */
            *seen = xrealloc(*seen, (*nseen + 1) * sizeof **seen);
            (*seen)[(*nseen)++] = real;
            switch (s->kind) {
            case K_DICTD: corpus_read_dictd(c, src, real); break;
            case K_WORDNET: read_wordnet(c, src, real); break;
            case K_SWORD_TEXT: read_sword(c, src, real, 0); break;
            case K_SWORD_COMM: read_sword(c, src, real, 1); break;
            case K_RDATA: read_rdata(c, src, real); break;
            case K_FORTUNES: read_fortunes(c, src, real); break;
            case K_DPKG: break;
            case K_TREE: case K_TREE_ANY: corpus_read_path(c, src, real, s->exclude, s->kind == K_TREE_ANY); break;
            }
        }
        if (gr == 0) globfree(&g);
    }
    free(paths);
}

/* The files a source reads: dictd bases become their index and data
 * files, a dpkg source its packages' file lists, the rest their globs. */
static void source_files(const preset_src *s, char *out, size_t cap) {
    char buf[1024];
    size_t w = 0;
    out[0] = 0;
    snprintf(buf, sizeof buf, "%s", s->kind == K_DPKG ? s->package : s->paths);
    for (char *save = NULL, *p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        int n;
        if (s->kind == K_DICTD) n = snprintf(out + w, cap - w, "%s%s.index %s.dict.dz", w ? " " : "", p, p);
        else if (s->kind == K_DPKG) n = snprintf(out + w, cap - w, "%s/var/lib/dpkg/info/%s{,:*}.list", w ? " " : "", p);
        else n = snprintf(out + w, cap - w, "%s%s", w ? " " : "", p);
        LLMOS_ASSERT(n > 0 && (size_t)n < cap - w);
        w += (size_t)n;
    }
}

static int find_preset(const char *name) {
    for (size_t i = 0; i < ARRAY_LEN(k_presets); i++)
        if (!strcmp(k_presets[i].name, name)) return (int)i;
    return err_set("unknown preset '%s' (known: debian, debian-small, tiny)", name);
}

int corpus_preset_needs(const char *name, data_needs *d) {
    int p = find_preset(name);
    if (p < 0) return -1;
    for (size_t k = 0; k < k_presets[p].n; k++) {
        const preset_src *s = &k_presets[p].src[k];
        char what[128], files[2048];
        snprintf(what, sizeof what, "corpus %s/%s", name, s->name);
        source_files(s, files, sizeof files);
        data_needs_add(d, what, s->package, files);
    }
    return 0;
}

int corpus_read_preset(corpus *c, const char *name) {
    int p = find_preset(name);
    if (p < 0) return -1;
    /* every source present, or nothing read: a preset is the sum of its sources */
    data_needs d = {0};
    corpus_preset_needs(name, &d);
    char *pkgs = NULL;
    size_t n_missing = data_needs_check(&d, stderr, &pkgs);
    data_needs_free(&d);
    if (n_missing) {
        if (pkgs) err_set("preset '%s': %zu source(s) not installed (as root: apt-get install %s)", name, n_missing, pkgs);
        else err_set("preset '%s': %zu source(s) missing from this system", name, n_missing);
        free(pkgs);
        return -1;
    }
    char **seen = NULL;
    size_t nseen = 0;
    for (size_t k = 0; k < k_presets[p].n; k++) read_source(c, &k_presets[p].src[k], &seen, &nseen);
    for (size_t k = 0; k < nseen; k++) free(seen[k]);
    free(seen);
    return 0;
}
