"""compress_ref.py - independent references for `llmos compress` (tests/t_compress_*.sh).

    compress_ref.py models OUTDIR   test models (below)
    compress_ref.py inputs OUTDIR   the round-trip inputs: OUTDIR/NNN-name, over 100 files
    compress_ref.py check LIST
        LIST has lines "MODEL ORIGINAL CODED IDS LABEL...". For each: reads
        CODED's header from the format's definition (src/infer/compress.h),
        checks the model's SHA-256 (hashlib), the CRC-32 of ORIGINAL and of the
        header (zlib), then computes the ideal code length of ORIGINAL's tokens
        (IDS: `llmos tokenize --ids` output) with the float64 PyTorch forward of
        tests/py/ref_llama.py and the context windows compress.h defines, and
        prints the coded bytes (the chunk data, without the header) beside the
        ideal. Exits 1 when any is more than 0.1% + 4 bytes from its ideal.

Models (gen_model.py's tokenizer: 256 GPT-2 byte tokens, 200 merges, and
<|endoftext|> as BOS/EOS; context 128):
  micro-f32     dim 32, 2 heads, 1 kv head, ffn 64: fast enough for 1 MB
  gqa-q8_0      gen_model's gqa config
Every model's output norm is scaled by 0.12, so that the logits are a few
units wide: gen_model's own files are so peaked that most tokens would sit
at the coder's floor of 2^-30.
  mqa-f16       the same for the mqa config (tied output)
  spm-f32       micro weights under a SentencePiece vocabulary with byte
                fallback (<0xNN>) and the leading-space rule
  spm-nobytes   the same vocabulary without byte tokens: cannot code every byte
"""
import hashlib
import json
import math
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_model  # noqa: E402
import gguf_py as G  # noqa: E402

MICRO = dict(dim=32, n_heads=2, n_kv=1, ffn=64, tied=True, base=10000.0, eps=1e-5, seed=7)


def write_model(path, name, cfg, ftype, tkv, vocab, eot, out_scale):
    kv = gen_model.model_kv(name, cfg, vocab, ftype) + tkv
    tt = G.TYPE_IDS[ftype]
    tensors = []
    for tname, a in gen_model.make_weights(cfg, vocab, eot).items():
        if tname == 'output_norm.weight':
            a = (a * out_scale).astype(a.dtype)
        t = tt if a.ndim == 2 else G.T_F32
        tensors.append((tname, t, list(reversed(a.shape)), G.quantize(t, a)))
    G.write(path, kv, tensors)


def spm_tokenizer(byte_tokens):
    """A small SentencePiece BPE vocabulary: <unk>, <s>, </s>, the 256 byte
    tokens (type 6) when asked, printable ASCII, and some merged pieces."""
    toks, types, scores = ['<unk>', '<s>', '</s>'], [2, 3, 3], [0.0, 0.0, 0.0]
    if byte_tokens:
        for b in range(256):
            toks.append('<0x%02X>' % b)
            types.append(6)
            scores.append(0.0)
    for c in [chr(c) for c in range(33, 127)] + ['\u2581']:
        toks.append(c)
        types.append(1)
        scores.append(-100.0)
    words = ['\u2581the', '\u2581a', '\u2581and', '\u2581of', 'th', 'he', 'in', 'er', 'an', '\u2581t',
             '\u2581s', '\u2581w', 'ing', 'ed', '\u2581to', 'on', 're', 'at', 'en']
    for i, w in enumerate(words):
        toks.append(w)
        types.append(1)
        scores.append(-float(i))
    kv = [
        ('tokenizer.ggml.model', G.STRING, 'llama'),
        ('tokenizer.ggml.tokens', G.ARRAY, (G.STRING, toks)),
        ('tokenizer.ggml.scores', G.ARRAY, (G.F32, scores)),
        ('tokenizer.ggml.token_type', G.ARRAY, (G.I32, types)),
        ('tokenizer.ggml.unknown_token_id', G.U32, 0),
        ('tokenizer.ggml.bos_token_id', G.U32, 1),
        ('tokenizer.ggml.eos_token_id', G.U32, 2),
        ('tokenizer.ggml.add_bos_token', G.BOOL, True),
    ]
    return kv, len(toks)


def cmd_models(out):
    os.makedirs(out, exist_ok=True)
    tkv, vocab, eot = gen_model.tokenizer_kv()
    write_model(os.path.join(out, 'micro-f32.gguf'), 'micro', MICRO, 'f32', tkv, vocab, eot, 0.12)
    write_model(os.path.join(out, 'gqa-q8_0.gguf'), 'gqa', gen_model.CONFIGS['gqa'], 'q8_0', tkv, vocab, eot, 0.12)
    write_model(os.path.join(out, 'mqa-f16.gguf'), 'mqa', gen_model.CONFIGS['mqa'], 'f16', tkv, vocab, eot, 0.12)
    for name, byte_tokens in (('spm-f32', True), ('spm-nobytes', False)):
        skv, svocab = spm_tokenizer(byte_tokens)
        write_model(os.path.join(out, name + '.gguf'), 'spm', MICRO, 'f32', skv, svocab, 1, 0.12)
    return 0


def cmd_inputs(out):
    """Over 100 byte strings that a compressor must give back exactly."""
    os.makedirs(out, exist_ok=True)
    rng = random.Random(18)
    cases = [('empty', b'')]
    for b in (0x00, 0x0a, 0x20, 0x41, 0x7f, 0x80, 0xc3, 0xe2, 0xfe, 0xff):
        cases.append(('byte-%02x' % b, bytes([b])))
    cases.append(('all-bytes', bytes(range(256))))
    cases.append(('all-bytes-desc', bytes(range(255, -1, -1))))
    perm = list(range(256)) * 4
    rng.shuffle(perm)
    cases.append(('all-bytes-shuffled', bytes(perm)))
    cases.append(('all-pairs-sample', bytes(rng.randrange(256) for _ in range(3000))))
    for n in (2, 3, 7, 15, 16, 17, 31, 64, 127, 128, 129, 255, 1000, 4096, 5000, 20000):
        cases.append(('random-%d' % n, bytes(rng.randrange(256) for _ in range(n))))
    for b, n in ((0, 10000), (0x61, 10000), (0xff, 3000), (0x20, 5000), (0x0a, 2000), (0xe2, 700)):
        cases.append(('run-%02x-%d' % (b, n), bytes([b]) * n))
    cases.append(('run-ab', b'ab' * 3000))
    cases.append(('run-abc-nul', b'abc\0' * 1500))
    cases.append(('run-crlf', b'line\r\n' * 800))
    invalid = [b'\x80', b'\xbf\xbf', b'\xc0\xaf', b'\xc3', b'\xe2\x82', b'\xf0\x9f\x98', b'\xed\xa0\x80',
               b'\xf4\x90\x80\x80', b'\xf8\x88\x80\x80\x80', b'\xfe\xff', b'\xc3\x28', b'\xe0\x80\xaf',
               b'\xf0\x80\x80\xaf', b'\xa0\xa1', b'\xe2\x28\xa1', b'\xf0\x28\x8c\xbc']
    for i, seq in enumerate(invalid):
        cases.append(('invalid-utf8-%02d' % i, b'text ' + seq + b' more text' + seq))
    cases.append(('invalid-utf8-mix', b''.join(rng.choice(invalid) + b'word ' for _ in range(400))))
    cases.append(('nul-in-text', b'hello\0world\0\0 the end\0'))
    cases.append(('nul-leading', b'\0\0\0start'))
    cases.append(('bom', '\ufeffbyte order mark first'.encode()))
    scripts = {
        'latin': 'Les élèves ont reçu leurs diplômes; Straße, Ærøskøbing, naïve café, ñandú.',
        'greek': 'Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.',
        'cyrillic': 'Съешь же ещё этих мягких французских булок, да выпей чаю.',
        'arabic': 'الخط العربي جميل جدا، وهو يكتب من اليمين إلى اليسار.',
        'hebrew': 'עברית נכתבת מימין לשמאל, עם ניקוד או בלעדיו.',
        'devanagari': 'हिन्दी देवनागरी लिपि में लिखी जाती है।',
        'chinese': '我能吞下玻璃而不伤身体。汉字有很多笔画。',
        'japanese': 'いろはにほへと ちりぬるを カタカナ 漢字まじり文。',
        'korean': '다람쥐 헌 쳇바퀴에 타고파. 한글은 과학적이다.',
        'thai': 'ภาษาไทยไม่มีช่องว่างระหว่างคำ',
        'emoji': 'Ok 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and ✨ sparkles ✨',
        'combining': 'e\u0301 a\u0308 n\u0303 Z\u0351\u0357\u0313 o\u0338',
        'math': '∀x ∈ ℝ: x² ≥ 0, ∑ᵢ aᵢ ≤ ∞, ∫₀¹ f(t) dt ≈ π/4',
        'box': '┌──┬──┐\n│ab│cd│\n└──┴──┘',
    }
    for name, text in scripts.items():
        cases.append(('script-' + name, text.encode()))
        cases.append(('script-%s-x20' % name, ('%s\n' % text).encode() * 20))
    cases.append(('script-all', '\n'.join(scripts.values()).encode()))
    here = os.path.dirname(os.path.abspath(__file__))
    prose = gen_model.TEXT.encode()
    cases.append(('prose', prose))
    cases.append(('prose-x10', prose * 10))
    cases.append(('prose-upper', prose.upper()))
    cases.append(('prose-no-newlines', prose.replace(b'\n', b' ')))
    cases.append(('code-python', open(os.path.join(here, 'gen_model.py'), 'rb').read()[:12000]))
    cases.append(('spaces-mixed', b'a  b   c\t\td \x0b\x0c e\r f' * 100))
    cases.append(('whitespace-only', b' \t\n\r' * 500))
    cases.append(('digits', ''.join(str(rng.randrange(10 ** 9)) for _ in range(800)).encode()))
    cases.append(('hex-dump', ' '.join('%02x' % rng.randrange(256) for _ in range(3000)).encode()))
    cases.append(('json', json.dumps([{'id': i, 'name': 'item %d' % i, 'v': i * 0.5} for i in range(300)]).encode()))
    cases.append(('special-token-text', b'before <|endoftext|> after <|endoftext|>'))
    cases.append(('text-then-binary', prose[:500] + bytes(rng.randrange(256) for _ in range(500))))
    cases.append(('binary-then-text', bytes(rng.randrange(256) for _ in range(500)) + prose[:500]))
    for i in range(12):
        n = rng.randrange(1, 3000)
        alphabet = rng.choice([b'ab', b'abcdefgh ', bytes(range(32, 127)), bytes(range(256)), b'\x00\xff'])
        cases.append(('mix-%02d' % i, bytes(rng.choice(alphabet) for _ in range(n))))
    # one megabyte: prose, scripts and binary, varied so that no chunk repeats another
    parts, size = [], 0
    while size < 1 << 20:
        k = rng.randrange(4)
        if k == 0:
            p = prose[rng.randrange(200):] + str(size).encode()
        elif k == 1:
            p = rng.choice(list(scripts.values())).encode() + b'\n'
        elif k == 2:
            p = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        else:
            p = bytes([rng.randrange(256)]) * rng.randrange(1, 300)
        parts.append(p)
        size += len(p)
    cases.append(('one-megabyte', b''.join(parts)[:1 << 20]))
    for i, (name, data) in enumerate(cases):
        with open(os.path.join(out, '%03d-%s' % (i, name)), 'wb') as f:
            f.write(data)
    print(len(cases))
    return 0


def varint(buf, pos):
    x, shift = 0, 0
    while True:
        c = buf[pos]
        pos += 1
        x |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return x, pos


def read_header(buf):
    assert buf[:4] == b'LLMZ', 'magic'
    assert buf[4] == 1, 'version'
    h = {'sha256': buf[5:37].hex()}
    pos = 37
    h['len'], pos = varint(buf, pos)
    h['crc'] = struct.unpack_from('<I', buf, pos)[0]
    pos += 4
    for k in ('chunk', 'ctx', 'keep', 'primer1'):
        h[k], pos = varint(buf, pos)
    n = (h['len'] + h['chunk'] - 1) // h['chunk']
    h['chunks'] = []
    for _ in range(n):
        size, pos = varint(buf, pos)
        skip, pos = varint(buf, pos)
        h['chunks'].append((size, skip))
    hcrc = struct.unpack_from('<I', buf, pos)[0]
    assert hcrc == zlib.crc32(buf[:pos]), 'header checksum'
    h['header_bytes'] = pos + 4
    return h


_models = {}


def ideal_bits(model_path, ids, ctx, keep, primer):
    """Sum of -log2 p over ids, each predicted from the primer and the
    window of tokens before it that compress.h defines."""
    import torch
    from ref_llama import Llama
    if model_path not in _models:
        _models[model_path] = Llama(model_path)
    m = _models[model_path]
    P = 1 if primer >= 0 else 0
    W = ctx - P
    n, i, b, bits = len(ids), 0, 0, 0.0
    if not P and n:  # no context at all: uniform over the vocabulary
        bits += math.log2(m.forward(ids[:1]).shape[-1])
        i = 1
    while i < n:
        e = min(n, b + W + 1)
        seq = ([primer] if P else []) + ids[b:e - 1]
        logp = torch.log_softmax(m.forward(seq), dim=-1)
        for k in range(i, e):
            bits -= float(logp[P + k - b - 1, ids[k]]) / math.log(2)
        i, b = e, e - keep
    return bits


def check_one(model_path, original, coded, ids_path):
    buf = open(coded, 'rb').read()
    data = open(original, 'rb').read()
    h = read_header(buf)
    assert h['sha256'] == hashlib.sha256(open(model_path, 'rb').read()).hexdigest(), 'model hash'
    assert h['len'] == len(data), 'length'
    assert h['crc'] == zlib.crc32(data), 'crc of the original'
    assert len(h['chunks']) == 1, 'one chunk expected for the ideal check'
    assert h['header_bytes'] + sum(s for s, _ in h['chunks']) == len(buf), 'sizes'
    ids = [int(x) for x in open(ids_path).read().split()]
    bits = ideal_bits(model_path, ids, h['ctx'], h['keep'], h['primer1'] - 1)
    return len(buf) - h['header_bytes'], bits / 8, len(ids)


def cmd_check(listfile):
    bad = 0
    for line in open(listfile):
        model_path, original, coded, ids_path, *label = line.split()
        c, i, n = check_one(model_path, original, coded, ids_path)
        ok = abs(c - i) <= 0.001 * i + 4
        print('%s: %d tokens, coded %d bytes, ideal %.1f (%+.4f%%)%s' % (
            ' '.join(label), n, c, i, 100 * (c - i) / max(i, 1e-9), '' if ok else '  FAIL: over 0.1% + 4 bytes'))
        bad += not ok
    return 1 if bad else 0


def main(argv):
    if len(argv) < 3 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 2
    if argv[1] == 'models':
        return cmd_models(argv[2])
    if argv[1] == 'inputs':
        return cmd_inputs(argv[2])
    if argv[1] == 'check':
        return cmd_check(argv[2])
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
