/*
 * json_constraint.c - the JSON-schema automaton (see json_constraint.h).
 *
 * The schema is compiled into a tree of js_node. A path is a stack of
 * frames, each frame one value being read: its node, the phase of its
 * little state machine, and counters. A value frame that has not seen its
 * first byte yet (PH_VALUE) resolves, on that byte, into the frame of the
 * node's kind; an anyOf node forks the path into one per branch that can
 * start with the byte. A number (or an enum literal) ends only when a byte
 * that cannot continue it arrives: the frame is popped and the byte is
 * given to the parent.
 */
#include "json_constraint.h"

#include "../core/common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { JC_MAX_DEPTH = 24, JC_MAX_PATHS = 8, JC_MAX_ENUM = 64, JC_MAX_PROPS = 64, JC_MAX_WS = 2,
       JC_MAX_DIGITS = 16 };

typedef enum { JS_ANY, JS_OBJECT, JS_ARRAY, JS_STRING, JS_NUMBER, JS_INTEGER, JS_BOOLEAN, JS_NULL, JS_ENUM,
               JS_ANYOF } js_kind;

typedef struct js_node {
    js_kind kind;
    /* object: properties in order (none: free keys) */
    int n_props;
    char **names;
    struct js_node **props;
    uint8_t *required;
    /* array */
    struct js_node *items;
    long min_items, max_items;
    /* string */
    long min_len, max_len;
    /* enum: the values' compact JSON texts; anyOf: the branches */
    int n;
    char **lits;
    struct js_node **alts;
} js_node;

typedef enum {
    PH_VALUE,                                                  /* before the value's first byte */
    PH_OBJ_OPEN, PH_OBJ_KEY, PH_OBJ_COLON, PH_OBJ_AFTER, PH_OBJ_COMMA,
    PH_ARR_OPEN, PH_ARR_AFTER,
    PH_STR, PH_STR_ESC, PH_STR_HEX,
    PH_NUM_SIGN, PH_NUM_ZERO, PH_NUM_INT, PH_NUM_DOT, PH_NUM_FRAC, PH_NUM_E, PH_NUM_ESIGN, PH_NUM_EXP,
    PH_ENUM
} jc_phase;

typedef struct {
    const js_node *n;
    uint8_t phase;
    uint8_t is_key; /* a string frame that is a free object's key */
    uint8_t lead;   /* string: the lead byte of the character being read */
    uint8_t cont;   /* string: its continuation bytes still to come */
    int16_t hex;    /* hex digits left in \uXXXX */
    int32_t count;  /* string: characters; array: items; number: digits; enum/key: bytes matched */
    int32_t next;   /* object: the index of the next property that may come */
    uint64_t cand;  /* enum: values still possible; object key: properties still possible */
} jc_frame;

typedef struct {
    int depth; /* frames in use; 0 with done: the value is complete */
    int done, ws;
    jc_frame f[JC_MAX_DEPTH];
} jc_path;

struct json_constraint {
    js_node *root;
    int n_paths;
    jc_path p[JC_MAX_PATHS];
};

static const js_node g_any = {.kind = JS_ANY, .max_items = -1, .max_len = -1};

/* ---- building the tree from a schema ---- */

static void js_free(js_node *n) {
    if (!n || n == &g_any) return;
    for (int i = 0; i < n->n_props; i++) free(n->names[i]), js_free(n->props[i]);
    free(n->names), free(n->props), free(n->required);
    js_free(n->items);
    for (int i = 0; i < n->n; i++) {
        if (n->lits) free(n->lits[i]);
        if (n->alts) js_free(n->alts[i]);
    }
    free(n->lits), free(n->alts);
    free(n);
}

static int js_type_kind(const char *t) {
    static const char *names[] = {"object", "array", "string", "number", "integer", "boolean", "null"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(t, names[i])) return JS_OBJECT + i;
    return -1;
}

static js_node *js_build(const cJSON *s, const char *where, int depth);

static js_node *js_new(js_kind k) {
    js_node *n = xcalloc(1, sizeof *n);
    n->kind = k;
    n->max_items = n->max_len = -1;
    return n;
}

static js_node *js_fail(js_node *n, const char *fmt, const char *a, const char *where) {
    js_free(n);
    err_set(fmt, a, where[0] ? where : "the top");
    return NULL;
}

/* Frees n and returns NULL, keeping the error a nested build set. */
static js_node *js_drop(js_node *n) {
    js_free(n);
    return NULL;
}

static int js_count(const cJSON *x, long *out) {
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e9 || x->valuedouble != (long)x->valuedouble)
        return -1;
    *out = (long)x->valuedouble;
    return 0;
}

/* A node of one type, with the keywords of that type read from s. */
static js_node *js_build_typed(const cJSON *s, int kind, const char *where, int depth) {
    js_node *n = js_new(kind);
    const cJSON *x;
    char sub[256];
    if (kind == JS_OBJECT && (x = cJSON_GetObjectItemCaseSensitive(s, "properties"))) {
        if (!cJSON_IsObject(x)) return js_fail(n, "schema: 'properties' must be an object%s at %s", "", where);
        int np = cJSON_GetArraySize(x);
        if (np > JC_MAX_PROPS) return js_fail(n, "schema: more than 64 properties%s at %s", "", where);
        n->names = xcalloc((size_t)np + 1, sizeof *n->names);
        n->props = xcalloc((size_t)np + 1, sizeof *n->props);
        n->required = xcalloc((size_t)np + 1, 1);
        const cJSON *p;
        cJSON_ArrayForEach(p, x) {
            if (strpbrk(p->string, "\"\\") || strlen(p->string) > 200)
                return js_fail(n, "schema: property name '%.64s' needs escaping (unsupported) at %s", p->string, where);
            snprintf(sub, sizeof sub, "%s%sproperties.%s", where, where[0] ? "." : "", p->string);
            n->names[n->n_props] = xstrdup(p->string);
            n->n_props++;
            if (!(n->props[n->n_props - 1] = js_build(p, sub, depth + 1))) return js_drop(n);
        }
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *r;
        if (req && !cJSON_IsArray(req)) return js_fail(n, "schema: 'required' must be an array%s at %s", "", where);
        cJSON_ArrayForEach(r, req) {
            int found = 0;
            for (int i = 0; i < n->n_props && cJSON_IsString(r); i++)
                if (!strcmp(n->names[i], r->valuestring)) n->required[i] = 1, found = 1;
            if (!found)
                return js_fail(n, "schema: required property '%.64s' is not among the properties at %s",
                               cJSON_IsString(r) ? r->valuestring : "?", where);
        }
    } else if (kind == JS_OBJECT && cJSON_GetObjectItemCaseSensitive(s, "required") &&
               cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "required")) > 0)
        return js_fail(n, "schema: 'required' without 'properties'%s at %s", "", where);
    x = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    if (kind == JS_OBJECT && x && !cJSON_IsBool(x))
        return js_fail(n, "schema: 'additionalProperties' must be true or false%s at %s", "", where);
    if (kind == JS_ARRAY) {
        x = cJSON_GetObjectItemCaseSensitive(s, "items");
        snprintf(sub, sizeof sub, "%s%sitems", where, where[0] ? "." : "");
        if (x && !(n->items = js_build(x, sub, depth + 1))) return js_drop(n);
        if ((x = cJSON_GetObjectItemCaseSensitive(s, "minItems")) && js_count(x, &n->min_items))
            return js_fail(n, "schema: bad 'minItems'%s at %s", "", where);
        if ((x = cJSON_GetObjectItemCaseSensitive(s, "maxItems")) && js_count(x, &n->max_items))
            return js_fail(n, "schema: bad 'maxItems'%s at %s", "", where);
    }
    if (kind == JS_STRING) {
        if ((x = cJSON_GetObjectItemCaseSensitive(s, "minLength")) && js_count(x, &n->min_len))
            return js_fail(n, "schema: bad 'minLength'%s at %s", "", where);
        if ((x = cJSON_GetObjectItemCaseSensitive(s, "maxLength")) && js_count(x, &n->max_len))
            return js_fail(n, "schema: bad 'maxLength'%s at %s", "", where);
    }
    if ((n->max_items >= 0 && n->min_items > n->max_items) || (n->max_len >= 0 && n->min_len > n->max_len))
        return js_fail(n, "schema: a minimum above its maximum%s at %s", "", where);
    return n;
}

static const char *const g_known[] = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength",
    "maxLength", "enum", "const", "anyOf", "title", "description", "$schema", "default", "examples", "strict", NULL};

static js_node *js_build(const cJSON *s, const char *where, int depth) {
    if (depth >= JC_MAX_DEPTH - 2) return js_fail(NULL, "schema: nested too deeply%s at %s", "", where);
    if (cJSON_IsBool(s) && cJSON_IsTrue(s)) return (js_node *)&g_any;
    if (!cJSON_IsObject(s)) return js_fail(NULL, "schema: a schema must be an object%s at %s", "", where);
    const cJSON *k;
    cJSON_ArrayForEach(k, s) {
        int known = 0;
        for (int i = 0; g_known[i]; i++) known |= !strcmp(k->string, g_known[i]);
        if (!known) return js_fail(NULL, "schema: unsupported keyword '%.64s' at %s", k->string, where);
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "enum"), *c = cJSON_GetObjectItemCaseSensitive(s, "const");
    if (e || c) {
        if (e && (!cJSON_IsArray(e) || cJSON_GetArraySize(e) < 1 || cJSON_GetArraySize(e) > JC_MAX_ENUM))
            return js_fail(NULL, "schema: 'enum' must be an array of 1 to 64 values%s at %s", "", where);
        js_node *n = js_new(JS_ENUM);
        n->lits = xcalloc(JC_MAX_ENUM, sizeof *n->lits);
        const cJSON *v;
        if (c) n->lits[n->n++] = cJSON_PrintUnformatted(c);
        else
            cJSON_ArrayForEach(v, e) n->lits[n->n++] = cJSON_PrintUnformatted(v);
        return n;
    }
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(s, "anyOf"), *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (any) {
        if (!cJSON_IsArray(any) || cJSON_GetArraySize(any) < 1 || cJSON_GetArraySize(any) > JC_MAX_PATHS)
            return js_fail(NULL, "schema: 'anyOf' must be an array of 1 to 8 schemas%s at %s", "", where);
        if (t) return js_fail(NULL, "schema: 'anyOf' beside 'type' (unsupported)%s at %s", "", where);
        js_node *n = js_new(JS_ANYOF);
        n->alts = xcalloc(JC_MAX_PATHS, sizeof *n->alts);
        const cJSON *b;
        char sub[256];
        cJSON_ArrayForEach(b, any) {
            snprintf(sub, sizeof sub, "%s%sanyOf.%d", where, where[0] ? "." : "", n->n);
            if (!(n->alts[n->n++] = js_build(b, sub, depth + 1))) return js_drop(n);
        }
        return n;
    }
    if (!t) {
        if (cJSON_GetObjectItemCaseSensitive(s, "properties")) return js_build_typed(s, JS_OBJECT, where, depth);
        return (js_node *)&g_any;
    }
    if (cJSON_IsString(t)) {
        int kind = js_type_kind(t->valuestring);
        if (kind < 0) return js_fail(NULL, "schema: unknown type '%.64s' at %s", t->valuestring, where);
        return js_build_typed(s, kind, where, depth);
    }
    if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) < 1 || cJSON_GetArraySize(t) > 7)
        return js_fail(NULL, "schema: 'type' must be a type name or a list of them%s at %s", "", where);
    js_node *n = js_new(JS_ANYOF);
    n->alts = xcalloc(8, sizeof *n->alts);
    const cJSON *b;
    cJSON_ArrayForEach(b, t) {
        int kind = cJSON_IsString(b) ? js_type_kind(b->valuestring) : -1;
        if (kind < 0) return js_fail(n, "schema: unknown type in 'type'%s at %s", "", where);
        if (!(n->alts[n->n++] = js_build_typed(s, kind, where, depth))) return js_drop(n);
    }
    return n;
}

/* ---- the automaton ---- */

static int is_ws(int b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }
static int is_digit(int b) { return b >= '0' && b <= '9'; }

/* Whether the frame's value may end here (before a byte that cannot
 * continue it). */
static int frame_can_end(const jc_frame *f) {
    switch (f->phase) {
    case PH_NUM_ZERO: case PH_NUM_INT: case PH_NUM_FRAC: case PH_NUM_EXP: return 1;
    case PH_ENUM:
        for (int i = 0; i < f->n->n; i++)
            if ((f->cand >> i & 1) && (int)strlen(f->n->lits[i]) == f->count) return 1;
        return 0;
    default: return 0;
    }
}

/* The object frame's properties that may come next as a key: from next up
 * to the first required one. */
static uint64_t obj_key_cands(const jc_frame *f) {
    uint64_t m = 0;
    for (int i = f->next; i < f->n->n_props; i++) {
        m |= 1ull << i;
        if (f->n->required[i]) break;
    }
    return m;
}

static int obj_can_close(const jc_frame *f) {
    for (int i = f->next; i < f->n->n_props; i++)
        if (f->n->required[i]) return 0;
    return 1;
}

static int path_push(jc_path *p, const js_node *n, int phase) {
    if (p->depth >= JC_MAX_DEPTH) return -1;
    p->f[p->depth++] = (jc_frame){.n = n, .phase = (uint8_t)phase};
    return 0;
}

/* The top value ended: tell its parent. */
static void path_pop(jc_path *p) {
    p->depth--;
    if (!p->depth) {
        p->done = 1;
        return;
    }
    jc_frame *f = &p->f[p->depth - 1];
    if (f->phase == PH_OBJ_KEY) f->phase = PH_OBJ_COLON; /* a free object's key string ended */
    else if (f->phase == PH_OBJ_COLON) f->phase = PH_OBJ_AFTER;
    else if (f->phase == PH_ARR_OPEN || f->phase == PH_ARR_AFTER) f->phase = PH_ARR_AFTER, f->count++;
}

/* Resolves a PH_VALUE frame of a non-anyOf node on its first byte b (not
 * whitespace): 0, or -1 when the kind cannot start with b. The byte is
 * consumed. */
static int value_start(jc_path *p, int b) {
    jc_frame *f = &p->f[p->depth - 1];
    const js_node *n = f->n;
    int k = n->kind;
    if (k == JS_ANY) {
        k = b == '{' ? JS_OBJECT : b == '[' ? JS_ARRAY : b == '"' ? JS_STRING : (b == '-' || is_digit(b)) ? JS_NUMBER
            : (b == 't' || b == 'f') ? JS_BOOLEAN : b == 'n' ? JS_NULL : -1;
        if (k < 0) return -1;
    }
    static const char *const bools[] = {"true", "false"};
    static const char *const nulls[] = {"null"};
    switch (k) {
    case JS_OBJECT:
        if (b != '{') return -1;
        f->phase = PH_OBJ_OPEN;
        return 0;
    case JS_ARRAY:
        if (b != '[') return -1;
        f->phase = PH_ARR_OPEN;
        return 0;
    case JS_STRING:
        if (b != '"') return -1;
        f->phase = PH_STR;
        return 0;
    case JS_NUMBER: case JS_INTEGER:
        if (b == '-') f->phase = PH_NUM_SIGN;
        else if (b == '0') f->phase = PH_NUM_ZERO, f->count = 1;
        else if (is_digit(b)) f->phase = PH_NUM_INT, f->count = 1;
        else return -1;
        if (n->kind == JS_INTEGER) f->hex = 1; /* no fraction, no exponent */
        return 0;
    case JS_BOOLEAN: case JS_NULL: case JS_ENUM: {
        /* literals: an enum over the fixed texts */
        const char *const *lits = k == JS_ENUM ? (const char *const *)n->lits : k == JS_BOOLEAN ? bools : nulls;
        int nl = k == JS_ENUM ? n->n : k == JS_BOOLEAN ? 2 : 1;
        static js_node bool_node = {.kind = JS_ENUM, .n = 2, .lits = (char **)bools};
        static js_node null_node = {.kind = JS_ENUM, .n = 1, .lits = (char **)nulls};
        if (k == JS_BOOLEAN) f->n = &bool_node;
        else if (k == JS_NULL) f->n = &null_node;
        f->phase = PH_ENUM;
        f->cand = 0;
        for (int i = 0; i < nl; i++)
            if ((unsigned char)lits[i][0] == b) f->cand |= 1ull << i;
        f->count = 1;
        return f->cand ? 0 : -1;
    }
    default: return -1;
    }
}

/* Feeds byte b to one path (no anyOf at its top: forks happen before).
 * 0, -1 when b cannot come here, 1 when a value frame was pushed and b
 * must be fed again (to its first byte). */
static int path_step(jc_path *p, int b) {
    if (p->done) return -1;
    if (!is_ws(b) || (p->depth && p->f[p->depth - 1].phase >= PH_STR && p->f[p->depth - 1].phase <= PH_STR_HEX))
        p->ws = 0;
    for (;;) {
        jc_frame *f = &p->f[p->depth - 1];
        const js_node *n = f->n;
        int ws_ok = is_ws(b) && p->ws < JC_MAX_WS;
        switch (f->phase) {
        case PH_VALUE:
            if (is_ws(b)) return ws_ok ? (p->ws++, 0) : -1;
            return value_start(p, b);
        case PH_OBJ_OPEN: case PH_OBJ_COMMA:
            if (is_ws(b)) return ws_ok ? (p->ws++, 0) : -1;
            if (b == '}' && f->phase == PH_OBJ_OPEN && (n->kind != JS_OBJECT || obj_can_close(f))) {
                path_pop(p);
                return 0;
            }
            if (b != '"') return -1;
            f->phase = PH_OBJ_KEY;
            f->count = 0;
            if (n->kind == JS_OBJECT && n->n_props) {
                f->cand = obj_key_cands(f);
                return f->cand ? 0 : -1;
            }
            /* a free key: a string frame, popped into PH_OBJ_COLON */
            if (path_push(p, &g_any, PH_STR)) return -1;
            p->f[p->depth - 1].is_key = 1;
            return 0;
        case PH_OBJ_KEY: { /* a key among the schema's properties */
            uint64_t keep = 0;
            for (int i = 0; i < n->n_props; i++) {
                if (!(f->cand >> i & 1)) continue;
                int len = (int)strlen(n->names[i]);
                if (b == '"' ? len == f->count : f->count < len && (unsigned char)n->names[i][f->count] == b)
                    keep |= 1ull << i;
            }
            if (!keep) return -1;
            if (b != '"') {
                f->cand = keep, f->count++;
                return 0;
            }
            int i = __builtin_ctzll(keep);
            f->next = i + 1;
            f->cand = (uint64_t)i; /* the property whose value comes */
            f->phase = PH_OBJ_COLON;
            return 0;
        }
        case PH_OBJ_COLON:
            if (is_ws(b)) return ws_ok ? (p->ws++, 0) : -1;
            if (b != ':') return -1;
            return path_push(p, n->n_props ? n->props[f->cand] : &g_any, PH_VALUE);
        case PH_OBJ_AFTER:
            if (is_ws(b)) return ws_ok ? (p->ws++, 0) : -1;
            if (b == '}' && (!n->n_props || obj_can_close(f))) {
                path_pop(p);
                return 0;
            }
            if (b == ',' && (!n->n_props || f->next < n->n_props)) {
                f->phase = PH_OBJ_COMMA;
                return 0;
            }
            return -1;
        case PH_ARR_OPEN: case PH_ARR_AFTER: {
            if (is_ws(b)) return ws_ok ? (p->ws++, 0) : -1;
            long cnt = f->count;
            int open = f->phase == PH_ARR_OPEN;
            const js_node *items = n->kind == JS_ARRAY && n->items ? n->items : &g_any;
            if (b == ']' && cnt >= (n->kind == JS_ARRAY ? n->min_items : 0)) {
                path_pop(p);
                return 0;
            }
            int room = n->kind != JS_ARRAY || n->max_items < 0 || cnt < n->max_items;
            if (!open) {
                if (b != ',' || !room) return -1;
                return path_push(p, items, PH_VALUE);
            }
            if (!room || path_push(p, items, PH_VALUE)) return -1;
            return 1; /* the first item's first byte: fed again (it may fork) */
        }
        case PH_STR:
            /* valid UTF-8 only (as RFC 3629 defines it), so that characters
             * count as a validator counts them */
            if (f->cont) {
                if ((b & 0xC0) != 0x80) return -1;
                if (f->lead && ((f->lead == 0xE0 && b < 0xA0) || (f->lead == 0xED && b >= 0xA0) ||
                                (f->lead == 0xF0 && b < 0x90) || (f->lead == 0xF4 && b >= 0x90)))
                    return -1;
                f->lead = 0;
                f->cont--;
                return 0;
            }
            if (b == '"') {
                if (f->count < n->min_len) return -1;
                path_pop(p);
                return 0;
            }
            if (b < 0x20 || (b >= 0x80 && b < 0xC2) || b > 0xF4) return -1;
            if (n->max_len >= 0 && f->count >= n->max_len) return -1;
            f->count++;
            /* a character beyond the BMP counts twice in JavaScript's
             * string length (ajv's maxLength counts it once, other
             * validators twice): refused, so both agree */
            if (b >= 0xF0) return -1;
            if (b >= 0xC0) f->lead = (uint8_t)b, f->cont = b >= 0xE0 ? 2 : 1;
            if (b == '\\') f->phase = PH_STR_ESC;
            return 0;
        case PH_STR_ESC:
            if (b == 'u') f->phase = PH_STR_HEX, f->hex = 4;
            else if (strchr("\"\\/bfnrt", b)) f->phase = PH_STR;
            else return -1;
            return 0;
        case PH_STR_HEX:
            if (!strchr("0123456789abcdefABCDEF", b)) return -1;
            if (--f->hex == 0) f->phase = PH_STR;
            return 0;
        case PH_NUM_SIGN:
            if (b == '0') f->phase = PH_NUM_ZERO, f->count = 1;
            else if (is_digit(b)) f->phase = PH_NUM_INT, f->count = 1;
            else return -1;
            return 0;
        case PH_NUM_ZERO: case PH_NUM_INT: case PH_NUM_FRAC:
            if (is_digit(b) && f->phase != PH_NUM_ZERO && f->count < JC_MAX_DIGITS) {
                f->count++;
                return 0;
            }
            if (b == '.' && f->phase != PH_NUM_FRAC && !f->hex && f->count < JC_MAX_DIGITS) {
                f->phase = PH_NUM_DOT;
                return 0;
            }
            if ((b == 'e' || b == 'E') && !f->hex) {
                f->phase = PH_NUM_E;
                return 0;
            }
            break; /* the number ended before b */
        case PH_NUM_DOT:
            if (!is_digit(b)) return -1;
            f->phase = PH_NUM_FRAC, f->count++;
            return 0;
        case PH_NUM_E:
            if (b == '+' || b == '-') f->phase = PH_NUM_ESIGN;
            else if (is_digit(b)) f->phase = PH_NUM_EXP, f->count = 1;
            else return -1;
            return 0;
        case PH_NUM_ESIGN:
            if (!is_digit(b)) return -1;
            f->phase = PH_NUM_EXP, f->count = 1;
            return 0;
        case PH_NUM_EXP:
            if (is_digit(b) && f->count < 3) {
                f->count++;
                return 0;
            }
            break;
        case PH_ENUM: {
            uint64_t keep = 0;
            for (int i = 0; i < n->n; i++)
                if ((f->cand >> i & 1) && (int)strlen(n->lits[i]) > f->count &&
                    (unsigned char)n->lits[i][f->count] == b)
                    keep |= 1ull << i;
            if (keep) {
                f->cand = keep, f->count++;
                return 0;
            }
            break;
        }
        }
        /* a number or literal that may end here ends, and b goes to the parent */
        if (!frame_can_end(f)) return -1;
        path_pop(p);
        if (!p->depth) return -1; /* nothing may follow the top value */
        if (is_ws(b)) p->ws = 0;
    }
}

static void path_copy(jc_path *d, const jc_path *s) {
    d->depth = s->depth, d->done = s->done, d->ws = s->ws;
    memcpy(d->f, s->f, sizeof(jc_frame) * (size_t)s->depth);
}

static int path_forks(const jc_path *q, int b) {
    return q->depth && q->f[q->depth - 1].phase == PH_VALUE && q->f[q->depth - 1].n->kind == JS_ANYOF && !is_ws(b);
}

/* Feeds b to every path, forking at anyOf nodes. 0 when a path survived. */
static int jc_step(json_constraint *c, int b) {
    if (c->n_paths == 1 && !path_forks(&c->p[0], b)) { /* the common case, in place */
        int r = path_step(&c->p[0], b);
        if (r <= 0) return r;
    }
    jc_path *todo = xmalloc(sizeof(jc_path) * JC_MAX_PATHS * 4);
    int n_todo = 0, n_out = 0;
    for (int i = 0; i < c->n_paths; i++) path_copy(&todo[n_todo++], &c->p[i]);
    while (n_todo && n_out < JC_MAX_PATHS) {
        jc_path *q = &todo[--n_todo];
        if (path_forks(q, b)) {
            const js_node *any = q->f[q->depth - 1].n;
            jc_path base;
            path_copy(&base, q);
            for (int k = any->n - 1; k >= 0 && n_todo < JC_MAX_PATHS * 4; k--) {
                path_copy(&todo[n_todo], &base);
                todo[n_todo].f[base.depth - 1].n = any->alts[k];
                n_todo++;
            }
            continue;
        }
        int r = path_step(q, b);
        if (r == 1) {
            n_todo++; /* fed again */
            continue;
        }
        if (r == 0) path_copy(&c->p[n_out++], q);
    }
    free(todo);
    c->n_paths = n_out;
    return n_out ? 0 : -1;
}

json_constraint *json_constraint_new(const cJSON *schema) {
    js_node *root;
    if (!schema) {
        root = js_new(JS_OBJECT);
    } else if (!(root = js_build(schema, "", 0)))
        return NULL;
    json_constraint *c = xcalloc(1, sizeof *c);
    c->root = root;
    c->n_paths = 1;
    path_push(&c->p[0], root, PH_VALUE);
    return c;
}

void json_constraint_free(json_constraint *c) {
    if (!c) return;
    js_free(c->root);
    free(c);
}

int json_constraint_feed(json_constraint *c, const char *s, size_t n) {
    if (!json_constraint_try(c, s, n)) return -1;
    for (size_t i = 0; i < n; i++) jc_step(c, (unsigned char)s[i]);
    return 0;
}

int json_constraint_try(const json_constraint *c, const char *s, size_t n) {
    json_constraint t;
    t.n_paths = c->n_paths;
    for (int i = 0; i < c->n_paths; i++) path_copy(&t.p[i], &c->p[i]);
    for (size_t i = 0; i < n; i++)
        if (jc_step(&t, (unsigned char)s[i])) return 0;
    return 1;
}

int json_constraint_done(const json_constraint *c) {
    for (int i = 0; i < c->n_paths; i++) {
        const jc_path *p = &c->p[i];
        if (p->done) return 1;
        if (p->depth == 1 && frame_can_end(&p->f[0])) return 1;
    }
    return 0;
}
