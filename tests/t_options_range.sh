#!/usr/bin/env bash
# t_options_range.sh - numeric options outside the range in which training
# can work are refused at once with a line naming the option (issue 14:
# they were accepted and ended in "loss is nan ... try a lower --lr"), and
# nan and inf are never numbers.
set -eu
cd "$T"
bad() { # expected-option command...
    local want=$1; shift
    if "$LLMOS" "$@" > out.txt 2> err.txt; then echo "accepted: llmos $*"; exit 1; fi
    grep -q -- "'$want'" err.txt || { cat err.txt; echo "the error for 'llmos $*' does not name $want"; exit 1; }
    [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; echo "not one line: llmos $*"; exit 1; }
}
for v in 0 -1 nan inf; do bad --rope-base pretrain --data none --rope-base $v; done
for v in 0 -1 1 nan; do bad --norm-eps pretrain --data none --norm-eps $v; done
bad --min-lr-ratio pretrain --data none --min-lr-ratio 1e30
bad --weight-decay pretrain --data none --weight-decay 1e30
bad --peak-gflops pretrain --data none --peak-gflops -1
bad --lr pretrain --data none --lr nan
bad --lr pretrain --data none --lr inf
bad --beta2 pretrain --data none --beta2 1
bad --eps pretrain --data none --eps 1e30
bad --min-lr-ratio sft --model none.gguf --data none.jsonl --min-lr-ratio 10000
bad --weight-decay sft --model none.gguf --data none.jsonl --weight-decay -1
bad --temp generate none.gguf -p x --temp nan
bad --top-p generate none.gguf -p x --top-p inf
echo "every out-of-range value refused naming its option"
