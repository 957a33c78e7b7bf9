#!/usr/bin/env bash
# scripts/main.sh - the main job: make a language model from nothing.
#
#   ./scripts/main.sh [--preset quick|default|hour|overnight] [--out DIR] [--resume]
#
# --resume keeps the stages whose output is already in DIR (an interrupted
# pretraining continues from its checkpoint) and redoes the rest. --inputs
# prints the data the preset reads (install-deps.sh's selection and the
# options of stages 1 and 7) and exits; --presets lists the presets.
#
# On a fresh Debian machine it installs what it needs, builds llmos, checks
# that every input of every stage is there (a missing package stops it
# before any work, with the line to run), then:
#   1. builds a corpus of freely licensed Debian text (llmos data build)
#   2. trains a byte-level BPE tokenizer on it (llmos tokenizer train)
#   3. tokenizes the corpus into shards (llmos data tokenize)
#   4. pretrains a base model sized for the time budget (llmos pretrain)
#   5. prints "dreams": unconditional and prompted samples, from llmos and run.c
#   6. measures validation bits per byte and the compression view: corpus
#      bytes against parameter bytes, and the model against xz -9 and zstd -19;
#      then compresses the held-out text with the model (llmos compress, a
#      real file, checked to decompress byte for byte)
#   7. makes the assistant: Q&A conversations from Debian's reference data
#      (llmos data chats), supervised fine-tuning (llmos sft), and the same
#      held-out questions asked to the base model and the assistant (llmos eval)
#   8. writes DIR/report.md with the loss curve, the samples and every figure
# Presets (measured times and results in docs/main-job.md):
#   quick      CI-sized: Debian's license texts, a 0.2M-parameter model
#   default    debian-small corpus (~10 MB), the tiny preset (1.3M parameters)
#   hour       full debian corpus (~185 MB), a 5M model, 20M tokens (measured: 46 min)
#   overnight  full debian corpus, the small preset (~16M with its vocabulary), 100M tokens
# (hour and overnight: sized from the scaling-law fit in docs/scaling.md, about
# 6 tokens per parameter; matmuls in bf16 where the CPU has AVX512_BF16)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=default out=out skip_deps=0 resume=0 inputs=0
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) preset=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --skip-deps) skip_deps=1; shift ;;
        --resume) resume=1; shift ;;
        --inputs) inputs=1; shift ;;
        --presets) echo "quick default hour overnight"; exit 0 ;;
        -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "main.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
chat_sources=all chats="" sft="--steps 300 --batch 16" evalopt="" bf16=0
case "$preset" in
    quick)     corpus=tiny          vocab=1024  ctx=64  tokens=400K  val_fraction=0.1
               model="--dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 192 --batch 8 --lr 3e-3"
               chat_sources=elements,countries,units chats="--max-per-source 400" sft="--steps 40 --batch 8 --lr 1e-3" evalopt="--max-new 24" ;;
    default)   corpus=debian-small  vocab=4096  ctx=256 tokens=3M  val_fraction=0.01  model="--preset tiny --batch 16" ;;
    hour)      corpus=debian        vocab=8192  ctx=256 tokens=20M  val_fraction=0.01 bf16=1
               model="--dim 256 --layers 4 --heads 4 --kv-heads 2 --ffn 688 --batch 16" ;;
    overnight) corpus=debian        vocab=16384 ctx=256 tokens=100M val_fraction=0.01 bf16=1
               model="--preset small --batch 16" ;;
    *) echo "main.sh: unknown preset '$preset' (quick, default, hour, overnight)" >&2; exit 2 ;;
esac

# The data stages 1 and 7 read: install-deps.sh installs its packages and
# the preflight checks its files (tests/t_main_deps.sh checks the two agree).
data="--preset $corpus --sources $chat_sources"
if [ "$inputs" = 1 ]; then
    echo "install-deps: $data"
    echo "data build: --preset $corpus"
    echo "data chats: --sources $chat_sources"
    exit 0
fi

T0=$SECONDS
stage_rows="" cur="" cur_t0=$SECONDS
stage() { # name: closes the current stage's timing, opens the next
    [ -n "$cur" ] && stage_rows+="| $cur | $((SECONDS - cur_t0)) s |"$'\n'
    cur=$1 cur_t0=$SECONDS
    [ -n "$1" ] && printf '\n== %s (%ds elapsed) ==\n' "$1" $((SECONDS - T0))
    return 0
}
# With --resume, a stage whose output exists is kept.
kept() { [ "$resume" = 1 ] && [ -e "$1" ] && echo "(kept from an earlier run: $1)"; }
stage "install, build and check the inputs"
# shellcheck disable=SC2086
[ "$skip_deps" = 1 ] || ./scripts/install-deps.sh $data
make -j2 llmos run >/dev/null
L=./llmos
# Preflight: every stage's inputs before the first minute of work.
missing=0
# shellcheck disable=SC2086
$L data check $data || missing=1
for t in /usr/bin/python3:python3 xz:xz-utils zstd:zstd gnuplot:gnuplot-nox awk:mawk; do
    command -v "${t%%:*}" >/dev/null ||
        { echo "missing: '${t%%:*}' (Debian package '${t#*:}')"; missing=1; }
done
mkdir -p "$out" && [ -w "$out" ] || { echo "missing: a writable output folder '$out'"; missing=1; }
if [ "$missing" = 1 ]; then
    echo "main.sh: inputs missing (above); ./scripts/install-deps.sh $data installs the packages" >&2
    exit 1
fi

stage "1. corpus ($corpus)"
kept "$out/corpus/val.jsonl" ||
    $L data build --preset "$corpus" --val-fraction "$val_fraction" --out "$out/corpus"
$L data stats "$out/corpus"

stage "2. tokenizer (vocab $vocab)"
kept "$out/tokenizer.gguf" ||
    $L tokenizer train --vocab-size "$vocab" --out "$out/tokenizer.gguf" "$out/corpus/train.jsonl"

stage "3. token shards"
kept "$out/shards/val.bin" ||
    $L data tokenize --tokenizer "$out/tokenizer.gguf" --out "$out/shards" \
        "$out/corpus/train.jsonl" "$out/corpus/val.jsonl"

stage "4. pretraining ($tokens tokens)"
again=""
[ "$resume" = 1 ] && [ -e "$out/base.ckpt.gguf" ] && again=--resume
[ "$bf16" = 1 ] && grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && again="$again --bf16"
# shellcheck disable=SC2086
kept "$out/base.gguf" ||
    $L pretrain --data "$out/shards" --tokenizer "$out/tokenizer.gguf" --out "$out/base.gguf" \
        $model --ctx "$ctx" --tokens "$tokens" --save-every 200 $again

stage "5. dreams"
samples="$out/samples.txt"
: > "$samples"
for i in 1 2 3; do
    { echo "--- unconditional sample $i (llmos, temperature 0.8) ---"
      $L generate "$out/base.gguf" -n 120 --seed "$i" -q; echo; } | tee -a "$samples"
done
for p in "The meaning of" "In the beginning" "A computer is"; do
    { echo "--- prompted: \"$p\" (llmos, temperature 0.8) ---"
      $L generate "$out/base.gguf" -p "$p" -n 80 --seed 7 -q; echo; } | tee -a "$samples"
done
{ echo "--- run.c, greedy: \"The meaning of\" ---"
  ./run "$out/base.gguf" -p "The meaning of" -n 60 -t 0; echo; } | tee -a "$samples"

stage "6. bits per byte and compression"
# the held-out text, as one plain text file
/usr/bin/python3 -c '
import json, sys
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        f.write(json.loads(line)["text"] + "\n\n")' "$out/corpus/val.jsonl" "$out/val.txt"
$L perplexity "$out/base.gguf" "$out/val.txt" --ctx "$ctx" --json > "$out/perplexity.json"
cat "$out/perplexity.json"
val_bytes=$(stat -c %s "$out/val.txt")
xz_bytes=$(xz -9 -c "$out/val.txt" | wc -c)
zstd_bytes=$(zstd -19 -q -c "$out/val.txt" | wc -c)
# the model as the compressor: a real file, decompressed and compared
t_c=$SECONDS
$L compress "$out/base.gguf" "$out/val.txt" "$out/val.llmz"
t_c=$((SECONDS - t_c)) t_d=$SECONDS
$L decompress "$out/base.gguf" "$out/val.llmz" "$out/val.back.txt"
t_d=$((SECONDS - t_d))
cmp "$out/val.txt" "$out/val.back.txt"   # set -e: a round trip that changed a byte stops the job
rm -f "$out/val.back.txt"
llmz_bytes=$(stat -c %s "$out/val.llmz")
corpus_bytes=$(cat "$out/corpus/train.jsonl" "$out/corpus/val.jsonl" | wc -c)
model_bytes=$(stat -c %s "$out/base.gguf")

stage "7. assistant (fine-tuning on conversations)"
# shellcheck disable=SC2086
kept "$out/chats.heldout.jsonl" || $L data chats --out "$out/chats.jsonl" --sources "$chat_sources" $chats
again=""
[ "$resume" = 1 ] && [ -e "$out/chat.ckpt.gguf" ] && again=--resume
# shellcheck disable=SC2086
kept "$out/chat.gguf" ||
    $L sft --model "$out/base.gguf" --data "$out/chats.jsonl" --out "$out/chat.gguf" --skip-long $sft $again
# shellcheck disable=SC2086
$L eval "$out/base.gguf" "$out/chat.gguf" --data "$out/chats.heldout.jsonl" --limit 100 --show 5 $evalopt \
    --out "$out/eval.jsonl" | tee "$out/eval.txt"

stage ""
json() { sed -n "s/.*\"$1\": *\([-0-9.e+]*\).*/\1/p" "$out/perplexity.json"; }
bpb=$(json bits_per_byte) ppl=$(json perplexity)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
params=$($L info "$out/base.gguf" | sed -n 's/^parameters: *N = [^(]*(\([0-9]*\)).*/\1/p')
last_eval=$(grep '"val_loss"' "$out/base.log.jsonl" | tail -n 1 || true)
{
    echo "# llmos main job: a language model from nothing"
    echo
    [ "$resume" = 1 ] && echo "Resumed run: stages marked 'kept' took their time in an earlier run (see the logs in $out)." && echo
    echo "Preset \`$preset\`, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
    echo "Reproduce: \`./scripts/main.sh --preset $preset\`"
    echo
    echo "## Time per stage"
    echo
    echo "| stage | wall time |"
    echo "|---|---|"
    printf '%s' "$stage_rows"
    echo "| total | $((SECONDS - T0)) s |"
    echo
    echo "## The model"
    echo
    echo '```'
    $L info "$out/base.gguf"
    echo '```'
    echo
    echo "Last evaluation in the training log: \`$last_eval\`"
    echo
    echo "![loss curve](base.loss.png)"
    echo
    echo "## Training as compression"
    echo
    echo "| | bytes | bits per byte of held-out text |"
    echo "|---|---|---|"
    echo "| held-out text (raw) | $val_bytes | 8 |"
    echo "| xz -9 | $xz_bytes | $(awk -v a="$xz_bytes" -v b="$val_bytes" 'BEGIN { printf "%.3f", 8 * a / b }') |"
    echo "| zstd -19 | $zstd_bytes | $(awk -v a="$zstd_bytes" -v b="$val_bytes" 'BEGIN { printf "%.3f", 8 * a / b }') |"
    echo "| the model (llmos perplexity, ctx $ctx) | - | $bpb (perplexity $ppl per token) |"
    echo "| compressed with the model (llmos compress: val.llmz, decompressed byte for byte; ${t_c} s / ${t_d} s) | $llmz_bytes | $(awk -v a="$llmz_bytes" -v b="$val_bytes" 'BEGIN { printf "%.3f", 8 * a / b }') |"
    echo
    echo "Corpus: $corpus_bytes bytes of JSONL; parameters file: $model_bytes bytes"
    echo "($params parameters): the corpus is $(ratio "$corpus_bytes" "$model_bytes") x the parameters file."
    echo
    echo "## Base model versus assistant (held-out questions: subjects never fine-tuned on)"
    echo
    echo '```'
    cat "$out/eval.txt"
    echo '```'
    echo
    echo "## Dreams"
    echo
    echo '```'
    cat "$samples"
    echo '```'
} > "$out/report.md.tmp"
mv "$out/report.md.tmp" "$out/report.md"
echo "report: $out/report.md  ($((SECONDS - T0)) s in all)"
