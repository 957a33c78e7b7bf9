#!/usr/bin/env bash
# For every preset of scripts/main.sh, the Debian packages its stages read
# (llmos data packages for the options `data build` and `data chats` get,
# from the source tables) are all among what scripts/install-deps.sh
# installs for the selection main.sh passes it (install-deps.sh --print).
# This is the check that would have caught the main job dying at stage 7
# for want of dict-gcide on a fresh machine. The check that the files of
# those packages are the ones the sources read is `llmos data check`
# (scripts/main.sh's preflight) and scripts/fresh-check.sh.
set -eu
cd "$ROOT"
presets=$(./scripts/main.sh --presets)
[ -n "$presets" ]
for p in $presets; do
    ./scripts/main.sh --preset "$p" --inputs > "$T/inputs.txt"
    field() { sed -n "s/^$1: //p" "$T/inputs.txt"; }
    build=$(field "data build") chats=$(field "data chats") deps=$(field "install-deps")
    [ -n "$build" ] && [ -n "$chats" ] && [ -n "$deps" ] || { echo "FAIL: $p: main.sh --inputs incomplete"; cat "$T/inputs.txt"; exit 1; }
    # shellcheck disable=SC2086
    "$LLMOS" data packages $build $chats | sort -u > "$T/read.txt"
    # shellcheck disable=SC2086
    ./scripts/install-deps.sh --print $deps | sort -u > "$T/installed.txt"
    [ -s "$T/read.txt" ] || { echo "FAIL: $p reads no package at all?"; exit 1; }
    not=$(comm -23 "$T/read.txt" "$T/installed.txt")
    [ -z "$not" ] || { echo "FAIL: preset $p reads packages install-deps.sh does not install: $not"; exit 1; }
    echo "ok: $p: $(wc -l < "$T/read.txt") data packages, all installed"
done
# The library installs nothing itself: installing is the scripts' job.
if grep -rn '"apt-get",\|execvp' src/data/; then echo "FAIL: src/data runs a program"; exit 1; fi
echo "t_main_deps: ok"
