"""bad_gguf.py - damaged GGUF files for tests/t_gguf_bad.sh.

    bad_gguf.py GOOD.gguf OUTDIR

Reads a good llama model with gguf_py and writes variants of it to OUTDIR,
printing one line per file: "NAME<TAB>EXPECT", EXPECT being
  file   the file itself is broken: `llmos info` and `llmos logits` must fail
  model  a well-formed GGUF but not a usable llama model: `llmos logits` must
         fail, `llmos info` may succeed (it must not crash)
  loose  odd tokenizer metadata that llama.cpp partly tolerates: every
         command may succeed or fail cleanly, none may crash
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py as G  # noqa: E402


def serialize(kv, infos, blobs, magic=G.GGUF_MAGIC, version=3, n_tensors=None, n_kv=None,
              align=32, raw_kv=None):
    """Like gguf_py.write but with every field under control. infos: list of
    dicts (name, ne, type, offset, n_dims optional); blobs: tensor data in
    order, each padded to align and placed at its natural offset."""
    out = [struct.pack('<IIQQ', magic, version, len(infos) if n_tensors is None else n_tensors,
                       len(kv) if n_kv is None else n_kv)]
    for k, t, v in kv:
        out.append(G._enc_str(k) + struct.pack('<I', t) + G._enc_value(t, v))
    if raw_kv:
        out.append(raw_kv)
    for ti in infos:
        ne = ti['ne']
        out.append(G._enc_str(ti['name']) + struct.pack('<I', ti.get('n_dims', len(ne))))
        out.append(b''.join(struct.pack('<Q', d) for d in ne))
        out.append(struct.pack('<IQ', ti['type'], ti['offset']))
    head = b''.join(out)
    head += b'\0' * ((align - len(head) % align) % align)
    body = b''.join(b + b'\0' * ((align - len(b) % align) % align) for b in blobs)
    return head + body


def main(good, outdir):
    os.makedirs(outdir, exist_ok=True)
    r = G.Reader(good)
    kv = [(k, t, v) for k, (t, v) in r.kv.items()]
    infos, blobs, off = [], [], 0
    for t in r.tensors:
        infos.append(dict(name=t['name'], ne=list(t['ne']), type=t['type'], offset=off))
        blobs.append(t['data'])
        off += (len(t['data']) + 31) // 32 * 32
    base = serialize(kv, infos, blobs)
    with open(good, 'rb') as f:
        assert f.read() == base, 'bad_gguf.py: the good file is not in canonical layout'
    made = []

    def emit(name, data, expect):
        with open(os.path.join(outdir, name + '.gguf'), 'wb') as f:
            f.write(data)
        made.append((name + '.gguf', expect))

    def with_kv(key, t=None, v=None, drop=False):
        out = []
        for k, tt, vv in kv:
            if k == key:
                if not drop:
                    out.append((k, t, v))
            else:
                out.append((k, tt, vv))
        if key not in r.kv and not drop:
            out.append((key, t, v))
        return out

    def with_info(tname, **changes):
        out = []
        for ti in infos:
            ti = dict(ti)
            if ti['name'] == tname:
                ti.update(changes)
            out.append(ti)
        return out

    # --- truncated anywhere: the header, every region, the last byte
    head_len = len(serialize(kv, infos, []))
    # the last tensor's last byte (what follows is padding, which may be cut)
    content_end = head_len + infos[-1]['offset'] + len(blobs[-1])
    cuts = sorted(set([0, 1, 3, 4, 5, 8, 12, 16, 20, 23, 24, 25, 31, 40, 100, 1000] +
                      [head_len * i // 23 for i in range(1, 23)] +
                      [head_len - 1, head_len, head_len + 1] +
                      [head_len + (len(base) - head_len) * i // 13 for i in range(1, 13)] +
                      [content_end - 32, content_end - 1]))
    for c in cuts:
        if c < content_end:
            emit('trunc-%07d' % c, base[:c], 'file')

    # --- header fields
    emit('magic-swapped', struct.pack('<I', 0x47475546) + base[4:], 'file')
    emit('magic-zero', b'\0\0\0\0' + base[4:], 'file')
    emit('magic-ggml', b'ggjt' + base[4:], 'file')
    for v in (0, 1, 4, 0xffffffff):
        emit('version-%d' % v, serialize(kv, infos, blobs, version=v), 'file')
    emit('n-tensors-huge', serialize(kv, infos, blobs, n_tensors=1 << 62), 'file')
    emit('n-tensors-max', serialize(kv, infos, blobs, n_tensors=(1 << 64) - 1), 'file')
    emit('n-tensors-plus1', serialize(kv, infos, blobs, n_tensors=len(infos) + 1), 'file')
    emit('n-kv-huge', serialize(kv, infos, blobs, n_kv=1 << 61), 'file')
    emit('n-kv-plus1', serialize(kv, infos, blobs, n_kv=len(kv) + 1), 'file')

    # --- metadata values
    key = G._enc_str('general.bogus')
    emit('kv-type-unknown', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                      raw_kv=key + struct.pack('<I', 13) + b'\0' * 8), 'file')
    emit('kv-type-max', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                  raw_kv=key + struct.pack('<I', 0xffffffff) + b'\0' * 8), 'file')
    emit('kv-str-len-huge', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                      raw_kv=key + struct.pack('<IQ', G.STRING, 1 << 62)), 'file')
    emit('kv-key-len-huge', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                      raw_kv=struct.pack('<Q', (1 << 64) - 1)), 'file')
    emit('kv-arr-count-huge', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                        raw_kv=key + struct.pack('<IIQ', G.ARRAY, G.U32, 1 << 62)), 'file')
    emit('kv-arr-str-count-huge', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                            raw_kv=key + struct.pack('<IIQ', G.ARRAY, G.STRING, 1 << 61)), 'file')
    emit('kv-arr-of-arr', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                    raw_kv=key + struct.pack('<IIQ', G.ARRAY, G.ARRAY, 1) + b'\0' * 12), 'file')
    emit('kv-arr-elem-unknown', serialize(kv, infos, blobs, n_kv=len(kv) + 1,
                                          raw_kv=key + struct.pack('<IIQ', G.ARRAY, 77, 1) + b'\0' * 8), 'file')
    emit('kv-duplicate', serialize(kv + [kv[0]], infos, blobs), 'file')
    emit('align-zero', serialize(with_kv('general.alignment', G.U32, 0), infos, blobs), 'file')
    emit('align-three', serialize(with_kv('general.alignment', G.U32, 3), infos, blobs), 'file')
    emit('align-string', serialize(with_kv('general.alignment', G.STRING, '32'), infos, blobs), 'file')

    # --- tensor infos
    t0, t1 = infos[0]['name'], infos[1]['name']
    last = infos[-1]['name']
    kv_end = len(serialize(kv, [], [], align=1))   # where the first tensor info starts
    emit('tensor-name-len-huge', base[:kv_end] + struct.pack('<Q', 1 << 60) + base[kv_end + 8:], 'file')
    emit('tensor-name-len-max', base[:kv_end] + struct.pack('<Q', (1 << 64) - 1) + base[kv_end + 8:], 'file')
    emit('tensor-offset-past-end', serialize(kv, with_info(last, offset=1 << 40), blobs), 'file')
    emit('tensor-offset-max', serialize(kv, with_info(last, offset=(1 << 64) - 32), blobs), 'file')
    emit('tensor-offset-unaligned', serialize(kv, with_info(t1, offset=infos[1]['offset'] + 4), blobs), 'file')
    ne_last = infos[-1]['ne']
    emit('tensor-size-past-end', serialize(kv, with_info(last, ne=[ne_last[0] * 4] + ne_last[1:]), blobs), 'file')
    emit('tensor-dim-huge', serialize(kv, with_info(t0, ne=[infos[0]['ne'][0], 1 << 62]), blobs), 'file')
    emit('tensor-dims-overflow', serialize(kv, with_info(t0, ne=[1 << 32, 1 << 32, 1 << 32]), blobs), 'file')
    emit('tensor-dim-zero', serialize(kv, with_info(t0, ne=[0, 4]), blobs), 'file')
    emit('tensor-ndims-zero', serialize(kv, with_info(t0, ne=[]), blobs), 'file')
    emit('tensor-ndims-5', serialize(kv, with_info(t0, ne=[1, 1, 1, 1, 1]), blobs), 'file')
    emit('tensor-ndims-huge', serialize(kv, with_info(t0, n_dims=1 << 31), blobs), 'file')
    for tt, label in ((3, 'q4_1'), (12, 'q4_k'), (99, '99'), (0xffffffff, 'max')):
        emit('tensor-type-%s' % label, serialize(kv, with_info(t1, type=tt), blobs), 'file')
    emit('tensor-duplicate-name', serialize(kv, with_info(t1, name=t0), blobs), 'file')
    qname = next(ti['name'] for ti in infos if ti['type'] in (G.T_Q8_0, G.T_Q4_0))
    qne = next(ti['ne'] for ti in infos if ti['name'] == qname)
    emit('tensor-row-not-block', serialize(kv, with_info(qname, ne=[qne[0] - 16, qne[1]]), blobs), 'file')

    # --- well-formed GGUF, broken model
    def drop_tensor(name):
        keep = [i for i, ti in enumerate(infos) if ti['name'] != name]
        ins, bl, o = [], [], 0
        for i in keep:
            ti = dict(infos[i], offset=o)
            ins.append(ti)
            bl.append(blobs[i])
            o += (len(blobs[i]) + 31) // 32 * 32
        return serialize(kv, ins, bl)

    for name in ('token_embd.weight', 'output_norm.weight', 'blk.1.ffn_down.weight', 'blk.0.attn_k.weight'):
        emit('missing-' + name.replace('.weight', ''), drop_tensor(name), 'model')
    C = int(r.get('llama.embedding_length'))
    H = int(r.get('llama.attention.head_count'))

    def swap_shape(name, ne):
        """The same bytes, another shape of the same element count."""
        return serialize(kv, with_info(name, ne=ne), blobs)
    q = next(ti for ti in infos if ti['name'] == 'blk.0.attn_q.weight')
    emit('shape-attn_q-3d', swap_shape('blk.0.attn_q.weight', [q['ne'][0], q['ne'][1] // 2, 2]), 'model')
    e = next(ti for ti in infos if ti['name'] == 'token_embd.weight')
    emb_ne = e['ne']
    # token_embd as (V, C) instead of (C, V): same size, wrong orientation
    if emb_ne[1] % G.BLOCK[e['type']][0] == 0:
        emit('shape-token_embd-transposed', swap_shape('token_embd.weight', [emb_ne[1], emb_ne[0]]), 'model')
    fd = next(ti for ti in infos if ti['name'] == 'blk.0.ffn_down.weight')
    emit('shape-ffn_down-transposed', swap_shape('blk.0.ffn_down.weight', [fd['ne'][1], fd['ne'][0]]), 'model')
    emit('shape-attn_norm-half', swap_shape('blk.0.attn_norm.weight', [C // 2, 2]), 'model')
    emit('hp-heads-zero', serialize(with_kv('llama.attention.head_count', G.U32, 0), infos, blobs), 'model')
    emit('hp-heads-not-dividing', serialize(with_kv('llama.attention.head_count', G.U32, C - 1), infos, blobs), 'model')
    emit('hp-kv-heads-not-dividing', serialize(with_kv('llama.attention.head_count_kv', G.U32, H + 1), infos, blobs), 'model')
    emit('hp-kv-heads-zero', serialize(with_kv('llama.attention.head_count_kv', G.U32, 0), infos, blobs), 'model')
    emit('hp-blocks-more', serialize(with_kv('llama.block_count', G.U32, 3), infos, blobs), 'model')
    emit('hp-blocks-huge', serialize(with_kv('llama.block_count', G.U32, 0xffffffff), infos, blobs), 'model')
    emit('hp-blocks-negative', serialize(with_kv('llama.block_count', G.I32, -1), infos, blobs), 'model')
    emit('hp-dim-zero', serialize(with_kv('llama.embedding_length', G.U32, 0), infos, blobs), 'model')
    emit('hp-dim-wrong', serialize(with_kv('llama.embedding_length', G.U32, C * 2), infos, blobs), 'model')
    emit('hp-dim-missing', serialize(with_kv('llama.embedding_length', drop=True), infos, blobs), 'model')
    emit('hp-dim-string', serialize(with_kv('llama.embedding_length', G.STRING, '64'), infos, blobs), 'model')
    emit('hp-ffn-wrong', serialize(with_kv('llama.feed_forward_length', G.U32, 1000), infos, blobs), 'model')
    emit('hp-ctx-zero', serialize(with_kv('llama.context_length', G.U32, 0), infos, blobs), 'model')
    emit('arch-missing', serialize(with_kv('general.architecture', drop=True), infos, blobs), 'model')
    emit('arch-other', serialize(with_kv('general.architecture', G.STRING, 'gpt-neox'), infos, blobs), 'model')
    toks = r.get('tokenizer.ggml.tokens')[1]
    emit('vocab-smaller', serialize(with_kv('tokenizer.ggml.tokens', G.ARRAY, (G.STRING, toks[:-10])), infos, blobs), 'model')
    emit('vocab-not-strings', serialize(with_kv('tokenizer.ggml.tokens', G.ARRAY, (G.I32, list(range(len(toks))))), infos, blobs), 'model')
    V = len(toks)
    types = r.get('tokenizer.ggml.token_type')[1]
    fewer = {'tokenizer.ggml.tokens': (G.STRING, toks[:-10]),
             'tokenizer.ggml.token_type': (G.I32, list(types[:-10])),
             'tokenizer.ggml.bos_token_id': 0, 'tokenizer.ggml.eos_token_id': 0}
    # llama.cpp refuses this; llmos allows embedding rows past the vocabulary
    # (padded embeddings) and decodes those ids to nothing
    emit('vocab-smaller-consistent', serialize([(k, t, fewer.get(k, v)) for k, t, v in kv], infos, blobs), 'loose')
    emit('tokenizer-model-unknown', serialize(with_kv('tokenizer.ggml.model', G.STRING, 'wordpiece'), infos, blobs), 'model')

    # --- odd tokenizer metadata: llama.cpp warns and goes on for some of
    # these; llmos may accept or refuse them, but must not crash
    merges = r.get('tokenizer.ggml.merges')[1]
    emit('tok-bos-out-of-range', serialize(with_kv('tokenizer.ggml.bos_token_id', G.U32, V + 1000), infos, blobs), 'loose')
    emit('tok-eos-out-of-range', serialize(with_kv('tokenizer.ggml.eos_token_id', G.U32, 0xffffffff), infos, blobs), 'loose')
    emit('tok-eos-negative', serialize(with_kv('tokenizer.ggml.eos_token_id', G.I32, -5), infos, blobs), 'loose')
    emit('tok-merges-unknown', serialize(with_kv('tokenizer.ggml.merges', G.ARRAY, (G.STRING, ['zz qq', 'h e'] + list(merges))), infos, blobs), 'loose')
    emit('tok-merges-malformed', serialize(with_kv('tokenizer.ggml.merges', G.ARRAY, (G.STRING, ['nospace', ' ', '', 'a b c'] + list(merges))), infos, blobs), 'loose')
    emit('tok-merges-malformed-later', serialize(with_kv('tokenizer.ggml.merges', G.ARRAY, (G.STRING, list(merges[:3]) + ['nospace'] + list(merges[3:]))), infos, blobs), 'loose')
    emit('tok-merges-missing', serialize(with_kv('tokenizer.ggml.merges', drop=True), infos, blobs), 'loose')
    emit('tok-types-short', serialize(with_kv('tokenizer.ggml.token_type', G.ARRAY, (G.I32, list(types[:5]))), infos, blobs), 'loose')
    emit('tok-types-odd', serialize(with_kv('tokenizer.ggml.token_type', G.ARRAY, (G.I32, [-7, 99] + list(types[2:]))), infos, blobs), 'loose')
    emit('tok-empty-and-dup', serialize(with_kv('tokenizer.ggml.tokens', G.ARRAY, (G.STRING, ['', toks[2]] + list(toks[2:]))), infos, blobs), 'loose')
    emit('tok-pre-unknown', serialize(with_kv('tokenizer.ggml.pre', G.STRING, 'no-such-pre'), infos, blobs), 'loose')
    emit('tok-missing', serialize([(k, t, v) for k, t, v in kv if not k.startswith('tokenizer.')], infos, blobs), 'loose')
    for name, expect in made:
        print('%s\t%s' % (name, expect))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
