"""chat_model.py - a random tiny 'llama' GGUF that carries a given tokenizer,
for the chat and SFT tests.

    chat_model.py TOKENIZER.gguf OUT.gguf [--ctx N] [--template FILE] [--config gqa|mqa|mha]

The tokenizer.* keys are copied from TOKENIZER.gguf (a tokenizer trained by
`llmos tokenizer train`); the weights come from gen_model.py's seeded
generator with that vocabulary size. --template stores the file's text as
tokenizer.chat_template.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_model  # noqa: E402
import gguf_py as G  # noqa: E402


def main(argv):
    if len(argv) < 3 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 2
    tok_path, out = argv[1], argv[2]
    ctx, template, config = 256, None, 'gqa'
    i = 3
    while i < len(argv):
        if argv[i] == '--ctx':
            ctx = int(argv[i + 1])
        elif argv[i] == '--template':
            with open(argv[i + 1], encoding='utf-8') as f:
                template = f.read()
        elif argv[i] == '--config':
            config = argv[i + 1]
        else:
            sys.stderr.write('chat_model.py: unknown option %s\n' % argv[i])
            return 2
        i += 2
    r = G.Reader(tok_path)
    tkv = [(k, t, v) for k, (t, v) in r.kv.items() if k.startswith('tokenizer.')]
    vocab = len(r.kv['tokenizer.ggml.tokens'][1][1])
    eot = int(r.kv['tokenizer.ggml.eos_token_id'][1])
    cfg = gen_model.CONFIGS[config]
    kv = gen_model.model_kv(config, cfg, vocab, 'f32')
    kv = [(k, t, ctx if k == 'llama.context_length' else v) for k, t, v in kv] + tkv
    if template is not None:
        kv.append(('tokenizer.chat_template', G.STRING, template))
    tensors = []
    for name, a in gen_model.make_weights(cfg, vocab, eot).items():
        tensors.append((name, G.T_F32, list(reversed(a.shape)), G.quantize(G.T_F32, a)))
    G.write(out, kv, tensors)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
