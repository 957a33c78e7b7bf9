"""make_tok_suite.py - the tokenizer comparison suite: hand-made cases for
every tricky class of input plus real text from Debian packages on this
machine, written as JSONL (one JSON string per line) for `llmos tokenize
--jsonl` and tests/js/tok_oracle.mjs.

Hand-made cases: English prose, code, numbers, white-space runs, contractions,
emoji (ZWJ sequences, flags, skin tones), CJK, combining marks, other
scripts, unusual spaces, control characters, long runs, and random strings
over an alphabet of all of these (fixed seed).

Real text: /usr/share/common-licenses, Vim's documentation and the packages'
changelogs and copyright files (sorted, so the suite is the same on the same
machine), cut into chunks of about 8 KB at line ends, until --mb megabytes.

Two characters are left out everywhere: U+FEFF and U+0085. JavaScript's \\s
(js-tiktoken) counts U+FEFF as white space and not U+0085; Unicode's
White_Space (llama.cpp, tiktoken's Rust, llmos) is the other way round. NUL
is left out too (JSON strings through C); the byte-level tests cover it.

usage: make_tok_suite.py OUT.jsonl [--mb 6] [--no-real]
"""
import glob
import gzip
import json
import os
import random
import sys

EXCLUDE = {'\ufeff': ' ', '\x85': ' ', '\x00': ' '}


def clean(s):
    for a, b in EXCLUDE.items():
        s = s.replace(a, b)
    return s


def handmade():
    c = []
    c += ["Hello world", "The quick brown fox jumps over the lazy dog.",
          "It was the best of times, it was the worst of times, it was the age of wisdom...",
          "Mr. O'Neil's \"quotes\" — and dashes – here; semicolons: colons!? (parens) [brackets] {braces}"]
    c += ["I'm you're he's she'd we'll they've isn't DON'T WON'T I'M YOU'RE We'Ll",
          "'s 't 're 've 'm 'll 'd", "'S 'T 'RE 'VE 'M 'LL 'D", "rock'n'roll o'clock y'all ma'am",
          "''s '''t", "l'homme d'accord", "it's'", "'"]
    c += ["def f(x):\n    return x**2 + 3*x - 1\n\n\nclass A(object):\n\tpass\n",
          "int main(void) {\n    printf(\"%d\\n\", 42);\n    return 0;\n}\n",
          "for (i = 0; i < n; i++) { a[i] += b[i] * c; } // comment\n/* block */",
          "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
          "SELECT * FROM t WHERE a >= 10 AND b <> 'x';", "x=>x+1; a!==b; c??d; e?.f",
          "https://example.com/path?query=1&b=2#frag user@example.org",
          "$ ls -la | grep -v '^d' > out.txt 2>&1 &&echo ok"]
    c += ["0", "12", "123", "1234", "12345678901234567890", "3.14159 2.71828 -1e-10 +6.02e23",
          "1,000,000 1.000.000 1 000 000", "0x1F 0b1010 0o777", "2024-01-31T12:34:56Z", "$1,234.56 €99 ¥1000",
          "a1b2c3 1a2b3c", "٠١٢٣٤٥٦٧٨٩ ۱۲۳ १२३ ๑๒๓", "² ³ ¹ ½ ¾ Ⅻ ⅷ ① ⑳", "𝟘𝟙𝟚 𝟎𝟏"]
    c += ["a  b", "a   b", "a    b", "  leading", "trailing  ", " ", "  ", "\n", "\n\n", "\n\n\n",
          "\t", "\t\t", " \t \n \r\n", "a\r\nb\r\n\r\nc", "x \n y", "x\n \ny", "x  \n\n  y",
          " " * 100, "\n" * 50, "\t" * 30, "a" + " " * 17 + "b", "end\n", "line1\nline2\n\nline4",
          "word\u00a0word", "word\u3000word", "a\u2028b\u2029c", "a\u2003\u2009b", "a\u200bb", "a\u00ad b",
          "\u1680x", "x\u202fy\u205fz", "\x0b\x0c", "tab\tsep\tvalues\t"]
    c += ["😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "I ❤️ NY 🗽!", "✓ ✗ ★ ☆ ♠ ♥", "🤖🧠💡 emoji 🚀",
          "🏳️‍🌈", "a😀b", " 😀 ", "😀😀😀😀😀😀😀😀😀😀"]
    c += ["你好，世界！", "我爱北京天安门。", "日本語のテキスト、カタカナとひらがな。", "한국어 텍스트입니다.",
          "漢字かな交じり文", "中文English混合text", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３", "〜「」『』【】"]
    c += ["e\u0301", "cafe\u0301 cafe\u0301s", "n\u0303 a\u0308 o\u0302", "Z\u0351\u0335\u0358a\u0336l\u0357g\u0334o",
          "नमस्ते दुनिया", "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "שָׁלוֹם עוֹלָם", "สวัสดีชาวโลก", "각",
          "Ελληνικά κείμενα", "Русский текст, ёЁ", "Zażółć gęślą jaźń", "Straße ß ẞ", "İstanbul ıi",
          "ﬁ ﬂ ﬀ", "Ǆ ǅ ǆ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕋𝕖𝕩𝕥", "𐍈𐌰𐌻𐌰", "ℌℑℜ", "ʰʲʷ ˈstres", "ا ب ت"]
    c += ["\x01\x02\x03 ctrl \x1b[31mred\x1b[0m \x7f", "\ue000\uf8ff private", "\ufffd replacement",
          "\U0001F600\U0010FFFD", "\u0378 unassigned \u0380", "<|endoftext|>", "text<|endoftext|>more",
          "<s> </s> <unk>", "<0x0A>", "▁ ▁▁ x▁y"]
    c += ["a" * 1000, "-" * 3000, "=" * 257, "1" * 1000, "ab" * 700, " a" * 500, "😀" * 300, "é" * 400,
          "Hello" * 300, ("x" * 5000) + " " + ("y" * 5000)]
    alphabet = list("abcSTRdlmevs019 '.,!?-_()\"") + [" ", " ", "  ", "\n", "\r\n", "\t", "é", "\u0301", "中", "文",
                                                    "😀", "\u00a0", "\u3000", "٣", "Ⅻ", "ß", "Ж", "\u200d", "🏽"]
    rnd = random.Random(1234)
    for _ in range(3000):
        c.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40))))
    return c


def real_files():
    files = sorted(glob.glob('/usr/share/common-licenses/*'))
    files += sorted(glob.glob('/usr/share/vim/vim*/doc/*.txt'))
    files += sorted(glob.glob('/usr/share/doc/*/changelog.Debian.gz'))
    files += sorted(glob.glob('/usr/share/doc/*/copyright'))
    return [f for f in files if os.path.isfile(f)]


def real_chunks(limit):
    total = 0
    for f in real_files():
        try:
            raw = gzip.open(f).read() if f.endswith('.gz') else open(f, 'rb').read()
        except OSError:
            continue
        text = clean(raw.decode('utf-8', errors='replace'))
        lines = text.splitlines(keepends=True)
        chunk = []
        size = 0
        for ln in lines:
            chunk.append(ln)
            size += len(ln)
            if size >= 8192:
                s = "".join(chunk)
                yield s
                total += len(s.encode())
                chunk, size = [], 0
                if total >= limit:
                    return
        if chunk:
            s = "".join(chunk)
            yield s
            total += len(s.encode())
            if total >= limit:
                return


def main():
    out = sys.argv[1]
    mb = float(sys.argv[sys.argv.index('--mb') + 1]) if '--mb' in sys.argv else 6.0
    cases = [clean(s) for s in handmade()]
    if '--no-real' not in sys.argv:
        cases += list(real_chunks(int(mb * 1e6)))
    n_bytes = 0
    with open(out, 'w', encoding='utf-8') as f:
        for s in cases:
            f.write(json.dumps(s, ensure_ascii=False) + '\n')
            n_bytes += len(s.encode())
    print('%d cases, %d bytes' % (len(cases), n_bytes))


if __name__ == '__main__':
    main()
