/*
 * test_json_constraint.c - the JSON-schema automaton on hand-written texts:
 * what it must accept as a prefix, what it must refuse at which byte, when
 * the value is complete, and which schemas it refuses to build. (The
 * texts it lets a model write are validated by ajv in t_serve_api.sh.)
 */
#include "infer/json_constraint.h"

#include "core/common.h"

#include <stdio.h>
#include <string.h>

/* Feeds text byte by byte: the number of bytes accepted (strlen when all),
 * and in *done whether the whole is a complete value. -2 when the schema
 * does not build. */
static int run(const char *schema, const char *text, int *done) {
    cJSON *s = schema ? cJSON_Parse(schema) : NULL;
    json_constraint *c = json_constraint_new(s);
    cJSON_Delete(s);
    if (!c) return -2;
    int n = 0;
    while (text[n] && json_constraint_try(c, text + n, 1)) {
        json_constraint_feed(c, text + n, 1);
        n++;
    }
    *done = json_constraint_done(c);
    json_constraint_free(c);
    return n;
}

int main(void) {
#define PERSON                                                                                          \
        "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":3},"  \
        "\"age\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"bc\",1]},"    \
        "\"minItems\":1,\"maxItems\":2},\"note\":{\"type\":[\"string\",\"null\"]}},"                  \
        "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}"
    static const struct {
        const char *schema, *text;
        int accepted; /* bytes accepted: -1 = all */
        int done;
    } cases[] = {
        {NULL, "{\"x\":[1,-2.5e+3,{\"y\":null}],\"z\":true,\"s\":\"\\u00e9\\n\"}", -1, 1},
        {NULL, "{\"x\":1", -1, 0},
        {NULL, "[1]", 0, 0},               /* json_object: an object only */
        {NULL, "{\"x\":1}}", 7, 1},        /* nothing after the value */
        {NULL, "{   \"x\":1}", 3, 0},      /* at most two whitespace characters in a row */
        {NULL, "{ \"x\" :  1}", -1, 1},
        {NULL, "{\"x\":01}", 6, 0},        /* no leading zero */
        {NULL, "{\"x\":\"a\x01\"}", 7, 0}, /* no control character in a string */
        {NULL, "{\"x\":\"\xc3\xa9\xe2\x82\xac\"}", -1, 1},
        {NULL, "{\"x\":\"\xc3(\"}", 7, 0},         /* a broken UTF-8 sequence */
        {NULL, "{\"x\":\"\xed\xa0\x80\"}", 7, 0},  /* a surrogate in UTF-8 */
        {NULL, "{\"x\":tru}", 8, 0},
        {PERSON, "{\"name\":\"Bob\",\"age\":42,\"tags\":[\"a\",1],\"note\":null}", -1, 1},
        {PERSON, "{\"name\":\"Bob\",\"age\":42}", -1, 1},
        {PERSON, "{\"name\":\"\xc3\xa9t\xc3\xa9\",\"age\":0}", -1, 1}, /* three characters */
        {PERSON, "{\"name\":\"Bobby\"", 12, 0},                      /* maxLength 3 */
        {PERSON, "{\"age\":1", 2, 0},                                /* properties in order */
        {PERSON, "{\"name\":\"B\"}", 11, 0},                         /* age is required */
        {PERSON, "{\"name\":\"B\",\"age\":1.5", 19, 0},              /* an integer */
        {PERSON, "{\"name\":\"B\",\"age\":1,\"tags\":[]", 28, 0},    /* minItems 1 */
        {PERSON, "{\"name\":\"B\",\"age\":1,\"tags\":[\"a\",\"a\",", 35, 0}, /* maxItems 2 */
        {PERSON, "{\"name\":\"B\",\"age\":1,\"tags\":[\"b\"", 30, 0},        /* "b" only begins "bc" */
        {PERSON, "{\"name\":\"B\",\"age\":1,\"x\":1", 21, 0},               /* no other property */
        {PERSON, "{\"name\":\"B\",\"age\":1,\"note\":\"hi\"}", -1, 1},       /* string or null */
        {"{\"type\":\"number\"}", "12", -1, 1},
        {"{\"type\":\"number\"}", "12.", -1, 0},
        {"{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"k\":{\"const\":1}},\"required\":[\"k\"]},"
         "{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"s\"},\"v\":{\"type\":\"boolean\"}},"
         "\"required\":[\"k\",\"v\"]}]}",
         "{\"k\":\"s\",\"v\":false}", -1, 1},
        {"{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"k\":{\"const\":1}},\"required\":[\"k\"]},"
         "{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"s\"},\"v\":{\"type\":\"boolean\"}},"
         "\"required\":[\"k\",\"v\"]}]}",
         "{\"k\":1,\"v\"", 6, 0},
        {"{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}}",
         "[1,\"a\",2]", -1, 1},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int done = 0, n = run(cases[i].schema, cases[i].text, &done);
        int want = cases[i].accepted < 0 ? (int)strlen(cases[i].text) : cases[i].accepted;
        if (n != want || done != cases[i].done) {
            fprintf(stderr, "case %zu '%s': accepted %d bytes (want %d), done %d (want %d)\n", i, cases[i].text, n,
                    want, done, cases[i].done);
            fails++;
        }
    }
    static const char *refused[][2] = {
        {"{\"type\":\"string\",\"pattern\":\"^a\"}", "pattern"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}", "$ref"},
        {"{\"type\":\"integer\",\"minimum\":3}", "minimum"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"b\"]}", "'b'"},
        {"{\"type\":\"strin\"}", "strin"},
        {"{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}", "minimum above"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int done;
        if (run(refused[i][0], "", &done) != -2 || !strstr(err_msg(), refused[i][1])) {
            fprintf(stderr, "schema %s was not refused naming %s (%s)\n", refused[i][0], refused[i][1], err_msg());
            fails++;
        }
    }
    if (fails) return 1;
    printf("test_json_constraint: %zu texts and %zu refused schemas as expected\n", sizeof cases / sizeof cases[0],
           sizeof refused / sizeof refused[0]);
    return 0;
}
