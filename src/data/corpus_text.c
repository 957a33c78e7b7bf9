/*
 * corpus_text.c - turning bytes into clean plain text: encoding repair and
 * whitespace normalization (every document goes through text_clean), and
 * the markup strippers for HTML/XML (also SWORD's OSIS), roff man pages
 * and Perl POD. Each stripper keeps the words and the paragraph structure
 * and drops the markup; text_clean tidies the whitespace afterwards.
 */
#include "corpus.h"

#include "../core/common.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

/* ---- growing output buffer ----------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_reserve(sbuf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}
static void sb_putc(sbuf *b, char c) {
    sb_reserve(b, 1);
    b->p[b->n++] = c;
}
static void sb_put(sbuf *b, const char *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_put_cp(sbuf *b, uint32_t cp) {
    char u[4];
    int n;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 63)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 63));
        u[2] = (char)(0x80 | (cp & 63)); n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 63));
        u[2] = (char)(0x80 | ((cp >> 6) & 63)); u[3] = (char)(0x80 | (cp & 63)); n = 4;
    }
    sb_put(b, u, (size_t)n);
}
static char *sb_finish(sbuf *b, size_t *len) {
    sb_reserve(b, 0);
    b->p[b->n] = 0;
    if (len) *len = b->n;
    return b->p;
}
/* The last byte written, or '\n' at the start (so that breaks don't pile up). */
static char sb_last(const sbuf *b) { return b->n ? b->p[b->n - 1] : '\n'; }
/* Ends the current line; with para also leaves one blank line. */
static void sb_break(sbuf *b, int para) {
    while (b->n && (b->p[b->n - 1] == ' ' || b->p[b->n - 1] == '\t')) b->n--;
    if (!b->n) return;
    if (b->p[b->n - 1] != '\n') sb_putc(b, '\n');
    if (para && (b->n < 2 || b->p[b->n - 2] != '\n')) sb_putc(b, '\n');
}

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t text_hash64(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = mix64(seed ^ (n * 0x9E3779B97F4A7C15ULL));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = mix64(h ^ w) * 0x9E3779B97F4A7C15ULL;
    }
    uint64_t w = 0;
    for (size_t k = 0; i + k < n; k++) w |= (uint64_t)s[i + k] << (8 * k);
    return mix64(h ^ w ^ 0xA0761D6478BD642FULL);
}

/* ---- encoding repair and whitespace -------------------------------------- */

/* Windows-1252 for 0x80-0x9F; 0 where cp1252 leaves the byte undefined. */
static const uint16_t k_cp1252[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
    0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length, or 0
 * when the bytes are not valid UTF-8 (overlong, surrogate, truncated). */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) { len = 2; v = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; v = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

char *text_clean(const char *src, size_t n, size_t *out_len, int *repaired) {
    const unsigned char *s = (const unsigned char *)src;
    sbuf b = {0};
    sb_reserve(&b, n + 16);
    int rep = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) { /* not UTF-8: read the byte as Windows-1252 / Latin-1 */
            cp = s[i];
            if (cp >= 0x80 && cp < 0xA0) cp = k_cp1252[cp - 0x80];
            k = 1;
            rep = 1;
            if (!cp) { i++; continue; }
        }
        i += (size_t)k;
        if (cp == '\r') {
            if (i < n && s[i] == '\n') continue;
            cp = '\n';
        }
        if (cp == '\f' || cp == '\v' || cp == 0x2028 || cp == 0x2029 || cp == 0x85) cp = '\n';
        if (cp == 0xA0) cp = ' ';
        if (cp == '\n') {
            sb_break(&b, b.n && b.p[b.n - 1] == '\n');
            continue;
        }
        if ((cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
            cp == 0xFEFF || cp == 0x200B)
            continue;
        if (cp < 0x80) {
            if ((cp == ' ' || cp == '\t') && b.n == 0) continue;
            sb_putc(&b, (char)cp);
        } else {
            sb_put_cp(&b, cp);
        }
    }
    while (b.n && isspace((unsigned char)b.p[b.n - 1])) b.n--;
    if (repaired) *repaired = rep;
    return sb_finish(&b, out_len);
}

int text_is_binary(const char *s, size_t n) {
    size_t m = MIN(n, (size_t)65536), ctrl = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) return 1;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1B &&
            c != 0x1F && c != 0x08)
            ctrl++;
    }
    return m && ctrl * 10 > m;
}

/* ---- HTML / XML ---------------------------------------------------------- */

static const struct { const char *name; uint32_t cp; } k_entities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
    {"nbsp", ' '}, {"ensp", ' '}, {"emsp", ' '}, {"thinsp", ' '}, {"shy", 0},
    {"zwj", 0}, {"zwnj", 0}, {"copy", 0xA9}, {"reg", 0xAE}, {"trade", 0x2122},
    {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},
    {"raquo", 0xBB}, {"bull", 0x2022}, {"middot", 0xB7}, {"para", 0xB6}, {"sect", 0xA7},
    {"deg", 0xB0}, {"times", 0xD7}, {"divide", 0xF7}, {"minus", 0x2212}, {"rarr", 0x2192},
    {"larr", 0x2190}, {"uarr", 0x2191}, {"darr", 0x2193}, {"harr", 0x2194},
    {"rArr", 0x21D2}, {"lArr", 0x21D0}, {"hArr", 0x21D4}, {"le", 0x2264}, {"ge", 0x2265},
    {"ne", 0x2260}, {"asymp", 0x2248}, {"infin", 0x221E}, {"sum", 0x2211},
    {"prod", 0x220F}, {"radic", 0x221A}, {"plusmn", 0xB1}, {"frac12", 0xBD},
    {"frac14", 0xBC}, {"frac34", 0xBE}, {"micro", 0xB5}, {"cent", 0xA2}, {"pound", 0xA3},
    {"euro", 0x20AC}, {"yen", 0xA5}, {"iexcl", 0xA1}, {"iquest", 0xBF}, {"dagger", 0x2020},
    {"Dagger", 0x2021}, {"prime", 0x2032}, {"Prime", 0x2033}, {"sup2", 0xB2},
    {"sup3", 0xB3}, {"szlig", 0xDF}, {"eacute", 0xE9}, {"egrave", 0xE8}, {"ecirc", 0xEA},
    {"euml", 0xEB}, {"aacute", 0xE1}, {"agrave", 0xE0}, {"acirc", 0xE2}, {"auml", 0xE4},
    {"aring", 0xE5}, {"aelig", 0xE6}, {"ccedil", 0xE7}, {"iacute", 0xED}, {"icirc", 0xEE},
    {"iuml", 0xEF}, {"ntilde", 0xF1}, {"oacute", 0xF3}, {"ocirc", 0xF4}, {"ouml", 0xF6},
    {"oslash", 0xF8}, {"uacute", 0xFA}, {"ugrave", 0xF9}, {"ucirc", 0xFB}, {"uuml", 0xFC},
    {"Eacute", 0xC9}, {"Auml", 0xC4}, {"Ouml", 0xD6}, {"Uuml", 0xDC}, {"alpha", 0x3B1},
    {"beta", 0x3B2}, {"gamma", 0x3B3}, {"delta", 0x3B4}, {"pi", 0x3C0}, {"lambda", 0x3BB},
    {"mu", 0x3BC}, {"sigma", 0x3C3}, {"omega", 0x3C9}, {"theta", 0x3B8}, {"epsilon", 0x3B5},
};

/* Decodes the entity at s ('&' ...); returns bytes consumed or 0 when it is
 * not an entity we know (the '&' is then kept literally). */
static size_t html_entity(const char *s, size_t n, sbuf *b) {
    size_t i = 1;
    if (i < n && s[i] == '#') {
        uint32_t v = 0;
        int hex = (i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X'));
        i += hex ? 2 : 1;
        size_t start = i;
        while (i < n && i - start < 8 && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))) {
            int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
            v = v * (hex ? 16 : 10) + (uint32_t)d;
            i++;
        }
        if (i == start) return 0;
        if (i < n && s[i] == ';') i++;
        if (v == 0xA0) v = ' ';
        if (v >= 0x20 || v == '\n' || v == '\t') sb_put_cp(b, v);
        return i;
    }
    size_t start = i;
    while (i < n && i - start < 10 && isalnum((unsigned char)s[i])) i++;
    if (i == start || i >= n || s[i] != ';') return 0;
    for (size_t k = 0; k < ARRAY_LEN(k_entities); k++) {
        if (strlen(k_entities[k].name) == i - start && !memcmp(k_entities[k].name, s + start, i - start)) {
            if (k_entities[k].cp) sb_put_cp(b, k_entities[k].cp);
            return i + 1;
        }
    }
    return 0;
}

/* Elements whose whole content is dropped. */
static const char *k_skip_tags[] = {"script", "style", "head", "noscript", "nav", "footer",
                                    "svg", "math", "template", "button", "form", "select",
                                    "iframe", "object", "note", "textarea"};
/* class/id/role words (prefixes) that mark navigation and page chrome. */
static const char *k_skip_class[] = {"nav", "footer", "breadcrumb", "menu",
                                     "related", "headerlink", "skip", "toc", "sphinxsidebar",
                                     "search", "copyright", "header-links", "admonition-title-link"};
/* Tags that end a paragraph / a line. */
static const char *k_para_tags[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
                                    "section", "article", "table", "ul", "ol", "dl", "hr",
                                    "chapter", "title", "figure", "main", "lg"};
static const char *k_line_tags[] = {"br", "div", "li", "tr", "dt", "dd", "caption", "l",
                                    "verse", "item", "figcaption", "summary", "details"};
static const char *k_void_tags[] = {"br", "hr", "img", "meta", "link", "input", "area",
                                    "base", "col", "embed", "source", "track", "wbr"};

static int in_list(const char *name, const char **list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i])) return 1;
    return 0;
}

/* 1 when an attribute value (class/id/role) names page chrome. */
static int chrome_attr(const char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (isspace((unsigned char)v[i]))) i++;
        size_t s = i;
        while (i < n && !isspace((unsigned char)v[i])) i++;
        for (size_t k = 0; k < ARRAY_LEN(k_skip_class); k++) {
            size_t m = strlen(k_skip_class[k]);
            if (i - s >= m && !strncasecmp(v + s, k_skip_class[k], m)) return 1;
        }
    }
    return 0;
}

/* Scans a tag's attributes for class=, id=, role=. */
static int tag_is_chrome(const char *a, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (isspace((unsigned char)a[i]) || a[i] == '/')) i++;
        size_t ks = i;
        while (i < n && a[i] != '=' && !isspace((unsigned char)a[i]) && a[i] != '/') i++;
        size_t kl = i - ks;
        while (i < n && isspace((unsigned char)a[i])) i++;
        if (i >= n || a[i] != '=') continue;
        i++;
        while (i < n && isspace((unsigned char)a[i])) i++;
        size_t vs, vl;
        if (i < n && (a[i] == '"' || a[i] == '\'')) {
            char q = a[i++];
            vs = i;
            while (i < n && a[i] != q) i++;
            vl = i - vs;
            if (i < n) i++;
        } else {
            vs = i;
            while (i < n && !isspace((unsigned char)a[i])) i++;
            vl = i - vs;
        }
        int key = (kl == 5 && !strncasecmp(a + ks, "class", 5)) || (kl == 2 && !strncasecmp(a + ks, "id", 2)) ||
                  (kl == 4 && !strncasecmp(a + ks, "role", 4));
        if (key && chrome_attr(a + vs, vl)) return 1;
    }
    return 0;
}

char *text_from_html(const char *s, size_t n, size_t *out_len) {
    sbuf b = {0};
    sb_reserve(&b, n / 2 + 16);
    char skip_tag[16] = "";
    int skip_depth = 0, pre = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '<') {
            if (i + 4 <= n && !memcmp(s + i, "<!--", 4)) {
                const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
                i = e ? (size_t)(e - s) + 3 : n;
                continue;
            }
            if (i + 9 <= n && !memcmp(s + i, "<![CDATA[", 9)) {
                const char *e = memmem(s + i + 9, n - i - 9, "]]>", 3);
                size_t end = e ? (size_t)(e - s) : n;
                if (!skip_depth) sb_put(&b, s + i + 9, end - i - 9);
                i = e ? end + 3 : n;
                continue;
            }
            size_t j = i + 1;
            int closing = 0;
            if (j < n && s[j] == '/') { closing = 1; j++; }
            if (j >= n || !(isalpha((unsigned char)s[j]) || s[j] == '!' || s[j] == '?')) {
                if (!skip_depth) sb_putc(&b, '<');
                i++;
                continue;
            }
            /* find the end of the tag, honouring quoted attribute values */
            size_t k = j;
            char q = 0;
            while (k < n && (q || s[k] != '>')) {
                if (q && s[k] == q) q = 0;
                else if (!q && (s[k] == '"' || s[k] == '\'') && k > j && (s[k - 1] == '=' || isspace((unsigned char)s[k - 1])))
                    q = s[k];
                k++;
            }
            size_t end = k < n ? k + 1 : n;
            char name[16];
            size_t m = 0;
            while (j < k && m < sizeof name - 1 && (isalnum((unsigned char)s[j]) || s[j] == ':' || s[j] == '-'))
                name[m++] = (char)tolower((unsigned char)s[j++]);
            name[m] = 0;
            int self_close = k > 0 && k < n && s[k - 1] == '/';
            i = end;
            if (!m) continue; /* <!DOCTYPE>, <?xml?> */
            if (skip_depth) {
                if (!strcmp(name, skip_tag) && !self_close) skip_depth += closing ? -1 : 1;
                continue;
            }
            int is_void = in_list(name, k_void_tags, ARRAY_LEN(k_void_tags));
            int page = !strcmp(name, "html") || !strcmp(name, "body") || !strcmp(name, "main") ||
                       !strcmp(name, "article"); /* never chrome, whatever their class */
            if (!closing && !self_close && !is_void &&
                (in_list(name, k_skip_tags, ARRAY_LEN(k_skip_tags)) || (!page && tag_is_chrome(s + j, k - j)))) {
                snprintf(skip_tag, sizeof skip_tag, "%s", name);
                skip_depth = 1;
                continue;
            }
            if (!strcmp(name, "pre")) pre = !closing;
            if (in_list(name, k_para_tags, ARRAY_LEN(k_para_tags))) sb_break(&b, 1);
            else if (in_list(name, k_line_tags, ARRAY_LEN(k_line_tags))) {
                sb_break(&b, 0);
                if (!closing && !strcmp(name, "li")) sb_puts(&b, "- ");
            } else if (!strcmp(name, "td") || !strcmp(name, "th")) {
                if (!closing && sb_last(&b) != '\n') sb_puts(&b, " | ");
            }
            continue;
        }
        if (skip_depth) { i++; continue; }
        if (c == '&') {
            size_t used = html_entity(s + i, n - i, &b);
            if (used) { i += used; continue; }
        }
        if (!pre && (c == ' ' || c == '\n' || c == '\t' || c == '\r')) {
            char l = sb_last(&b);
            if (l != ' ' && l != '\n') sb_putc(&b, ' ');
            i++;
            continue;
        }
        sb_putc(&b, c);
        i++;
    }
    return sb_finish(&b, out_len);
}

/* ---- roff (man pages) ----------------------------------------------------- */

static const struct { const char *name, *text; } k_roff_chars[] = {
    {"em", "\xE2\x80\x94"}, {"en", "\xE2\x80\x93"}, {"hy", "-"}, {"aq", "'"}, {"dq", "\""},
    {"lq", "\xE2\x80\x9C"}, {"rq", "\xE2\x80\x9D"}, {"oq", "\xE2\x80\x98"}, {"cq", "\xE2\x80\x99"},
    {"bu", "\xE2\x80\xA2"}, {"co", "\xC2\xA9"}, {"rg", "\xC2\xAE"}, {"tm", "\xE2\x84\xA2"},
    {"mu", "\xC3\x97"}, {"di", "\xC3\xB7"}, {"+-", "\xC2\xB1"}, {"<=", "\xE2\x89\xA4"},
    {">=", "\xE2\x89\xA5"}, {"!=", "\xE2\x89\xA0"}, {"->", "\xE2\x86\x92"}, {"<-", "\xE2\x86\x90"},
    {"ul", "_"}, {"ba", "|"}, {"rs", "\\"}, {"ti", "~"}, {"ha", "^"}, {"sl", "/"}, {"dg", "\xE2\x80\xA0"},
    {"de", "\xC2\xB0"}, {"ps", "\xC2\xB6"}, {"sc", "\xC2\xA7"}, {"Fo", "\xC2\xAB"}, {"Fc", "\xC2\xBB"},
    {"Lq", "\xE2\x80\x9C"}, {"Rq", "\xE2\x80\x9D"}, {"R", "\xC2\xAE"}, {"Tm", "\xE2\x84\xA2"},
    {"lh", "<="}, {"rh", "=>"}, {"bv", "|"}, {"at", "@"}, {"sh", "#"}, {"Do", "$"}, {"ga", "`"},
    {"aa", "'"}, {"ss", "\xC3\x9F"}, {":u", "\xC3\xBC"}, {":o", "\xC3\xB6"}, {":a", "\xC3\xA4"},
    {"'e", "\xC3\xA9"}, {"`e", "\xC3\xA8"}, {"12", "\xC2\xBD"}, {"14", "\xC2\xBC"}, {"34", "\xC2\xBE"},
};

static void roff_named(sbuf *b, const char *name, size_t len) {
    for (size_t k = 0; k < ARRAY_LEN(k_roff_chars); k++)
        if (strlen(k_roff_chars[k].name) == len && !memcmp(k_roff_chars[k].name, name, len)) {
            sb_puts(b, k_roff_chars[k].text);
            return;
        }
}

/* Reads a roff escape argument: (xx, [name], or a single char. Returns the
 * position after it and the name span. */
static size_t roff_arg(const char *s, size_t n, size_t i, size_t *ns, size_t *nl) {
    if (i < n && s[i] == '(') {
        *ns = i + 1;
        *nl = MIN((size_t)2, n - i - 1);
        return i + 1 + *nl;
    }
    if (i < n && s[i] == '[') {
        size_t e = i + 1;
        while (e < n && s[e] != ']' && s[e] != '\n') e++;
        *ns = i + 1;
        *nl = e - i - 1;
        return e < n && s[e] == ']' ? e + 1 : e;
    }
    *ns = i;
    *nl = i < n ? 1 : 0;
    return i < n ? i + 1 : i;
}

/* Appends the text of one roff text span, resolving escapes. */
static void roff_text(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') { sb_putc(b, s[i++]); continue; }
        if (++i >= n) break;
        char e = s[i++];
        size_t ns, nl;
        switch (e) {
        case '"': return; /* comment to end of line */
        case 'f': case 'F': case 'n': case 'g': case 'k': case 'm': case 'M': case 'Y':
            i = roff_arg(s, n, i, &ns, &nl);
            break;
        case '(': case '[':
            i = roff_arg(s, n, i - 1, &ns, &nl);
            roff_named(b, s + ns, nl);
            break;
        case 'C': case 'N': case 'h': case 'v': case 'w': case 'o': case 'l': case 'L':
        case 'x': case 'D': case 'b': case 'A': case 'B': case 'R': case 'X': case 'Z': {
            if (i < n && s[i] == '\'') {
                const char *q = memchr(s + i + 1, '\'', n - i - 1);
                size_t end = q ? (size_t)(q - s) : n;
                if (e == 'C') roff_named(b, s + i + 1, end - i - 1);
                else if (e == 'N') sb_put_cp(b, (uint32_t)atoi(s + i + 1));
                i = q ? end + 1 : n;
            }
        } break;
        case '*':
            i = roff_arg(s, n, i, &ns, &nl);
            roff_named(b, s + ns, nl);
            break;
        case 's':
            if (i < n && (s[i] == '+' || s[i] == '-')) i++;
            if (i < n && (s[i] == '(' || s[i] == '[')) i = roff_arg(s, n, i, &ns, &nl);
            else while (i < n && isdigit((unsigned char)s[i])) i++;
            break;
        case '-': sb_putc(b, '-'); break;
        case 'e': case '\\': sb_putc(b, '\\'); break;
        case '~': case ' ': case '0': sb_putc(b, ' '); break;
        case '\'': sb_putc(b, '\''); break;
        case '`': sb_putc(b, '`'); break;
        case '.': sb_putc(b, '.'); break;
        case '&': case '|': case '^': case '%': case ':': case 'c': case 'z': case 'a': case 't':
        case 'p': case 'd': case 'u': case 'r': case '/': case ',': case '{': case '}': case 'E':
            break;
        default: sb_putc(b, e); break;
        }
    }
}

/* Splits a macro line's arguments (quotes group words). */
static int roff_args(const char *s, size_t n, const char **av, size_t *al, int max) {
    int c = 0;
    size_t i = 0;
    while (i < n && c < max) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i >= n) break;
        if (s[i] == '"') {
            size_t st = ++i;
            while (i < n && s[i] != '"') i++;
            av[c] = s + st;
            al[c++] = i - st;
            if (i < n) i++;
        } else {
            size_t st = i;
            while (i < n && s[i] != ' ' && s[i] != '\t') i++;
            av[c] = s + st;
            al[c++] = i - st;
        }
    }
    return c;
}

char *text_from_roff(const char *s, size_t n, size_t *out_len) {
    sbuf b = {0};
    sb_reserve(&b, n + 16);
    int nofill = 0, skip_def = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n, len = e - i;
        const char *line = s + i;
        i = nl ? e + 1 : n;
        if (skip_def) { /* a macro definition ends at ".." (spaces allowed between) */
            size_t q = 0;
            if (len && (line[0] == '.' || line[0] == '\'')) {
                q = 1;
                while (q < len && (line[q] == ' ' || line[q] == '\t')) q++;
                if (q < len && line[q] == '.') {
                    q++;
                    while (q < len && (line[q] == ' ' || line[q] == '\t')) q++;
                    if (q == len) skip_def = 0;
                }
            }
            continue;
        }
        if (len && (line[0] == '.' || line[0] == '\'')) {
            size_t p = 1;
            while (p < len && (line[p] == ' ' || line[p] == '\t')) p++;
            size_t ms = p;
            while (p < len && line[p] != ' ' && line[p] != '\t') p++;
            const char *mac = line + ms;
            size_t ml = p - ms;
            const char *av[16];
            size_t al[16];
            int ac = roff_args(line + p, len - p, av, al, 16);
#define MAC(x) (ml == strlen(x) && !memcmp(mac, x, ml))
            if (ml >= 1 && mac[0] == '\\' && ml >= 2 && mac[1] == '"') continue;
            if (MAC("de") || MAC("de1") || MAC("am") || MAC("ig")) { skip_def = 1; continue; }
            if (MAC("SH") || MAC("SS") || MAC("Sh") || MAC("Ss")) {
                sb_break(&b, 1);
                for (int k = 0; k < ac; k++) {
                    if (k) sb_putc(&b, ' ');
                    roff_text(&b, av[k], al[k]);
                }
                sb_break(&b, 0);
            } else if (MAC("PP") || MAC("P") || MAC("LP") || MAC("sp") || MAC("Pp") || MAC("HP")) {
                sb_break(&b, 1);
            } else if (MAC("TP") || MAC("TQ") || MAC("br") || MAC("RS") || MAC("RE") || MAC("It")) {
                sb_break(&b, MAC("TP"));
                if (MAC("It"))
                    for (int k = 0; k < ac; k++) { if (k) sb_putc(&b, ' '); roff_text(&b, av[k], al[k]); }
            } else if (MAC("IP")) {
                sb_break(&b, 1);
                if (ac > 0) { roff_text(&b, av[0], al[0]); sb_putc(&b, ' '); }
            } else if (MAC("nf") || MAC("EX") || MAC("Bd")) {
                sb_break(&b, 0);
                nofill = 1;
            } else if (MAC("fi") || MAC("EE") || MAC("Ed")) {
                sb_break(&b, 0);
                nofill = 0;
            } else if (MAC("B") || MAC("I") || MAC("SM") || MAC("SB") || MAC("SY") || MAC("Nm") ||
                       MAC("Ar") || MAC("Fl") || MAC("Em") || MAC("Sy") || MAC("Nd") || MAC("Dq") ||
                       MAC("Ql") || MAC("Pa") || MAC("Xr") || MAC("Va") || MAC("Fn") || MAC("Cm")) {
                if (sb_last(&b) != '\n' && sb_last(&b) != ' ') sb_putc(&b, ' ');
                if (MAC("Fl")) sb_putc(&b, '-');
                if (MAC("Nd")) sb_puts(&b, "\xE2\x80\x94 ");
                for (int k = 0; k < ac; k++) {
                    if (k) sb_putc(&b, MAC("Xr") && k == 1 ? '(' : ' ');
                    roff_text(&b, av[k], al[k]);
                }
                if (MAC("Xr") && ac > 1) sb_putc(&b, ')');
                sb_putc(&b, nofill ? '\n' : ' ');
            } else if (MAC("BR") || MAC("BI") || MAC("IB") || MAC("IR") || MAC("RB") || MAC("RI")) {
                if (sb_last(&b) != '\n' && sb_last(&b) != ' ') sb_putc(&b, ' ');
                for (int k = 0; k < ac; k++) roff_text(&b, av[k], al[k]);
                sb_putc(&b, nofill ? '\n' : ' ');
            } else if (MAC("OP")) {
                sb_putc(&b, '[');
                for (int k = 0; k < ac; k++) { if (k) sb_putc(&b, ' '); roff_text(&b, av[k], al[k]); }
                sb_puts(&b, "] ");
            }
            /* every other request (TH, so, ft, nr, ds, if, ...) carries no text */
#undef MAC
            continue;
        }
        if (len == 0) { sb_break(&b, 1); continue; }
        roff_text(&b, line, len);
        sb_putc(&b, nofill ? '\n' : ' ');
    }
    return sb_finish(&b, out_len);
}

/* ---- POD (Perl documentation) --------------------------------------------- */

/* Appends text with POD formatting codes (B<..>, L<text|link>, E<gt>, and
 * the C<< .. >> form) resolved. */
static void pod_text(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && isupper((unsigned char)s[i]) && s[i + 1] == '<' && strchr("BICFSLEXZ", s[i])) {
            char code = s[i];
            size_t j = i + 1, open = 0;
            while (j < n && s[j] == '<') { open++; j++; }
            size_t start = j, end = n, next = n;
            if (open == 1) {
                int depth = 1;
                for (size_t k = j; k < n; k++) {
                    if (s[k] == '<' && k > 0 && isupper((unsigned char)s[k - 1])) depth++;
                    else if (s[k] == '>' && --depth == 0) { end = k; next = k + 1; break; }
                }
            } else {
                while (start < n && s[start] == ' ') start++;
                for (size_t k = start; k + open <= n; k++) {
                    size_t g = 0;
                    while (g < open && s[k + g] == '>') g++;
                    if (g == open && k > start && s[k - 1] == ' ') {
                        end = k - 1;
                        next = k + open;
                        break;
                    }
                }
            }
            const char *in = s + start;
            size_t il = end > start ? end - start : 0;
            if (code == 'E') {
                if (il == 2 && !memcmp(in, "lt", 2)) sb_putc(b, '<');
                else if (il == 2 && !memcmp(in, "gt", 2)) sb_putc(b, '>');
                else if (il == 6 && !memcmp(in, "verbar", 6)) sb_putc(b, '|');
                else if (il == 3 && !memcmp(in, "sol", 3)) sb_putc(b, '/');
                else if (il > 0 && isdigit((unsigned char)in[0])) sb_put_cp(b, (uint32_t)strtoul(in, NULL, 0));
                else {
                    sbuf tmp = {0};
                    char ent[24];
                    snprintf(ent, sizeof ent, "&%.*s;", (int)MIN(il, (size_t)16), in);
                    if (html_entity(ent, strlen(ent), &tmp)) sb_put(b, tmp.p, tmp.n);
                    free(tmp.p);
                }
            } else if (code == 'L') {
                const char *bar = memchr(in, '|', il);
                if (bar) pod_text(b, in, (size_t)(bar - in));
                else {
                    size_t a = 0, z = il;
                    if (z && in[0] == '"') a = 1;
                    if (z > a && in[z - 1] == '"') z--;
                    pod_text(b, in + a, z - a);
                }
            } else if (code != 'X' && code != 'Z') {
                pod_text(b, in, il);
            }
            i = next;
            continue;
        }
        sb_putc(b, s[i++]);
    }
}

char *text_from_pod(const char *s, size_t n, size_t *out_len) {
    sbuf b = {0};
    sb_reserve(&b, n + 16);
    int in_pod = 0, skip_block = 0;
    size_t i = 0;
    while (i < n) {
        /* skip blank lines, then one paragraph: up to the next blank line */
        for (;;) {
            size_t p = i;
            while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r')) p++;
            if (p < n && s[p] == '\n') i = p + 1;
            else break;
        }
        if (i >= n) break;
        size_t st = i, e = i;
        for (;;) {
            const char *nl = memchr(s + e, '\n', n - e);
            size_t le = nl ? (size_t)(nl - s) : n;
            size_t p = e;
            while (p < le && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r')) p++;
            if (p == le && e > st) { e = le; break; } /* blank line ends it */
            e = nl ? le + 1 : n;
            if (!nl) break;
        }
        i = e < n ? e + 1 : n;
        size_t len = e - st;
        while (len && (s[st + len - 1] == '\n' || s[st + len - 1] == '\r')) len--;
        const char *p = s + st;
        if (!len) continue;
        if (p[0] == '=' && len > 1 && isalpha((unsigned char)p[1])) {
            size_t k = 1;
            while (k < len && !isspace((unsigned char)p[k])) k++;
            const char *cmd = p + 1;
            size_t cl = k - 1;
            while (k < len && isspace((unsigned char)p[k])) k++;
            in_pod = !(cl == 3 && !memcmp(cmd, "cut", 3));
            if (cl == 5 && !memcmp(cmd, "begin", 5)) skip_block = 1;
            else if (cl == 3 && !memcmp(cmd, "end", 3)) skip_block = 0;
            else if (cl >= 4 && !memcmp(cmd, "head", 4)) {
                sb_break(&b, 1);
                pod_text(&b, p + k, len - k);
                sb_break(&b, 1);
            } else if (cl == 4 && !memcmp(cmd, "item", 4)) {
                sb_break(&b, 1);
                if (len - k == 1 && p[k] == '*') sb_puts(&b, "- ");
                else { pod_text(&b, p + k, len - k); sb_break(&b, 0); }
            }
            continue;
        }
        if (!in_pod || skip_block) continue;
        sb_break(&b, 1);
        if (p[0] == ' ' || p[0] == '\t') sb_put(&b, p, len); /* verbatim */
        else pod_text(&b, p, len);
        sb_break(&b, 1);
    }
    return sb_finish(&b, out_len);
}
