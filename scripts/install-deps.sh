#!/usr/bin/env bash
# scripts/install-deps.sh - installs everything llmos builds, runs and is
# tested with, from Debian's archive (apt) and the npm registry. Safe to run
# again: it installs only what is missing. Needs root (or sudo) for apt.
set -eu
cd "$(dirname "$0")/.."

# Build and run: compiler, cJSON, readline, plotting, compressors for the
# compression comparison. Tests: PyTorch/numpy (float64 references), clang
# (libFuzzer), node (llama.cpp oracles).
APT_PKGS="build-essential libcjson-dev libreadline-dev libcurl4-openssl-dev zlib1g-dev gnuplot-nox xz-utils zstd
          python3-torch python3-numpy clang libclang-rt-14-dev tmux
          python3-sentencepiece libopenblas0-pthread libmicrohttpd-dev chromium"
# Real text and Q&A sources the tests and the main job read (see
# /work/shared/DATA.md): the assistant dataset's structured data.
APT_PKGS="$APT_PKGS wordnet-base dict-elements dict-vera miscfiles units iso-codes perl-doc python3.11-doc"

# Node.js and npm (the oracles' runtime) only when absent: a machine may have
# them from another source, whose nodejs conflicts with Debian's npm package.
command -v node >/dev/null 2>&1 || APT_PKGS="$APT_PKGS nodejs"
command -v npm >/dev/null 2>&1 || APT_PKGS="$APT_PKGS npm"

missing=()
for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The independent references (llama.cpp through node-llama-cpp, js-tiktoken,
# GPT-2 and Llama 2 vocabularies), pinned in tests/oracle/package.json.
if [ ! -d tests/oracle/node_modules/node-llama-cpp ] || [ ! -d tests/oracle/node_modules/js-tiktoken ] ||
   [ ! -d tests/oracle/node_modules/playwright-core ]; then
    echo "install-deps: npm install (tests/oracle)"
    (cd tests/oracle && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: ok"
