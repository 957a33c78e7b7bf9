// lcpp_pretok.cpp - llama.cpp's own pre-tokenizer (src/unicode.cpp from the
// llama.cpp source that npm node-llama-cpp bundles, compiled by the test) as
// an oracle for texts JavaScript cannot carry: bytes that are not UTF-8.
//
// stdin: cases as u32 little-endian length + bytes. argv[1]: gpt2 | llama3.
// stdout: one line per case, the byte offsets (in the original text) where
// llama.cpp's pieces end, comma-separated. llama.cpp decodes the text with
// its own rules, turning each invalid byte into U+FFFD; the offsets map its
// codepoints back to the original bytes.
#include "unicode.h"

#include <cstdio>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    if (argc < 2) return 2;
    std::string re;
    if (!strcmp(argv[1], "gpt2"))
        re = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    else
        re = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    uint32_t n;
    while (fread(&n, 4, 1, stdin) == 1) {
        std::string text(n, '\0');
        if (n && fread(&text[0], 1, n, stdin) != n) return 1;
        // byte length of each codepoint as llama.cpp decodes the text
        std::vector<size_t> cpt_bytes;
        for (size_t off = 0; off < text.size();) {
            size_t o = off;
            try {
                unicode_cpt_from_utf8(text, o);
            } catch (const std::invalid_argument &) {
                o = off + 1;
            }
            cpt_bytes.push_back(o - off);
            off = o;
        }
        std::vector<std::string> words = unicode_regex_split(text, {re}, false);
        size_t cp = 0, byte = 0;
        bool first = true;
        for (const auto & w : words) {
            size_t k = unicode_cpts_from_utf8(w).size();
            for (size_t i = 0; i < k; i++) byte += cpt_bytes[cp++];
            printf(first ? "%zu" : ",%zu", byte);
            first = false;
        }
        printf("\n");
    }
    return 0;
}
