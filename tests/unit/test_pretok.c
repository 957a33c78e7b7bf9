/* test_pretok.c - the pre-tokenizers split as their regexes do: hand-made
 * cases whose expected pieces follow from the patterns in pretok.h
 * (contractions, optional leading space, \s+(?!\S) backtracking, Llama 3's
 * 3-digit groups and newline rules, multi-byte letters, invalid bytes). */
#include "tokenizer/pretok.h"

#include <stdio.h>
#include <string.h>

static int g_fail;

/* expected: pieces separated by '|' (the cases contain no '|'). */
static void check(pretok_kind k, const char *text, size_t n, const char *expected) {
    char got[1024];
    size_t g = 0, pos = 0;
    while (pos < n) {
        size_t end = pretok_next(k, text, n, pos);
        if (end <= pos || end > n) {
            printf("FAIL bad end %zu at %zu\n", end, pos);
            g_fail++;
            return;
        }
        if (g) got[g++] = '|';
        memcpy(got + g, text + pos, end - pos);
        g += end - pos;
        pos = end;
    }
    got[g] = 0;
    if (g != strlen(expected) || memcmp(got, expected, g)) {
        printf("FAIL %s: [%s]\n  got      [%s]\n  expected [%s]\n",
               k == PRETOK_GPT2 ? "gpt2" : "llama3", text, got, expected);
        g_fail++;
    }
}

#define G(t, e) check(PRETOK_GPT2, t, sizeof(t) - 1, e)
#define L(t, e) check(PRETOK_LLAMA3, t, sizeof(t) - 1, e)

int main(void) {
    G("Hello world", "Hello| world");
    G("I'm don't we'll they're I've he'd", "I|'m| don|'t| we|'ll| they|'re| I|'ve| he|'d");
    G("DON'T", "DON|'|T");
    G("a  b", "a| | b");
    G("a   \n\n  b", "a|   \n\n | b");
    G("x\n\ny", "x|\n|\n|y");
    G("end   ", "end|   ");
    G("12345 678", "12345| 678");
    G("foo.bar(x, y);", "foo|.|bar|(|x|,| y|);");
    G("  !!", " | !!");
    G("caf\xc3\xa9 na\xc3\xafve", "caf\xc3\xa9| na\xc3\xafve");
    G("\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82", "\xe4\xbd\xa0\xe5\xa5\xbd|\xe3\x80\x82"); /* CJK + ideographic stop */
    G("e\xcc\x81t\xc3\xa9", "e|\xcc\x81|t\xc3\xa9");       /* combining mark is "other" */
    G("a\xff" "b \xc3(", "a|\xff|b| \xc3(");                /* invalid bytes are "other" */
    G("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");            /* emoji + ! */
    G("\xc2\xa0x", "\xc2\xa0|x");                           /* NBSP is white space */
    G("'", "'");
    G("", "");

    L("Hello world", "Hello| world");
    L("I'M DON'T We'Re", "I|'M| DON|'T| We|'Re");
    L("1234567 89", "123|456|7| |89");
    L("a.\n\nb", "a|.\n\n|b");
    L("x  \n \n  y", "x|  \n \n| | y");
    L("x   y", "x|  | y");
    L("(hello)", "(hello|)");
    L("\nword", "\n|word");
    L(" \tword", " |\tword");
    L("3rd", "3|rd");
    L("a\xff" "b", "a|\xff" "b");
    L("tail \n", "tail| \n");
    L("tail  ", "tail|  ");
    if (g_fail) printf("%d failures\n", g_fail);
    return g_fail != 0;
}
