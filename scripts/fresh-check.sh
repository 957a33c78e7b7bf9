#!/usr/bin/env bash
# scripts/fresh-check.sh - the README's two commands on a fresh Debian 12 root.
#
#   sudo ./scripts/fresh-check.sh [--dir DIR] [--preset P] [--keep]
#
# Builds a minimal Debian 12 (bookworm) root with mmdebstrap (variant minbase:
# the essential packages and apt, nothing else) from this machine's own
# configured apt sources, copies this repository into it (the files git
# tracks plus untracked ones it does not ignore, as they are in the working
# tree), and runs inside it, as root, what the README tells a new user to run:
#   1. ./scripts/main.sh --preset quick            (--preset P to choose)
#   2. ./scripts/install-deps.sh && make test
# then reports what failed. Nothing is shared with this machine's packages:
# apt and npm download everything again (about 1.5 GB, same network).
# Takes tens of minutes (measured times: docs/fresh-check.md); not part of
# `make test`. Needs root (chroot and bind mounts) and installs mmdebstrap on
# this machine when it is missing (a development tool: install-deps.sh does
# not list it). Logs: DIR/main.log, DIR/test.log, DIR/summary.txt; the root
# is DIR/root, removed at the end unless --keep.
# Exit status: 0 when both commands succeeded, 1 when one failed, 2 on a
# usage or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD dir="" preset=quick keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir=$2; shift 2 ;;
        --preset) preset=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fresh-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: needs root (chroot, mounts): sudo $0" >&2; exit 2; }
command -v git >/dev/null || { echo "fresh-check: needs git to list the repository's files" >&2; exit 2; }
if ! command -v mmdebstrap >/dev/null; then
    echo "fresh-check: apt-get install mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        mmdebstrap >/dev/null
fi
[ -n "$dir" ] || dir=$(mktemp -d /var/tmp/llmos-fresh.XXXXXX)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=$dir/root
[ ! -e "$root" ] || { echo "fresh-check: '$root' already exists; choose another --dir" >&2; exit 2; }

# This machine's enabled apt sources, as files mmdebstrap pastes into the root.
sources=()
[ -s /etc/apt/sources.list ] && grep -q '^deb' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || { echo "fresh-check: no apt sources in /etc/apt" >&2; exit 2; }

# This machine's network: where it reaches https sites through a proxy that
# signs with a locally added CA (/usr/local/share/ca-certificates), the root
# trusts the same CAs, or npm cannot reach its registry. A machine without
# such CAs gets none: the root stays minbase.
local_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${local_cas[0]}" ] || local_cas=()

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
    [ "$keep" = 1 ] || [ ! -d "$root" ] || rm -rf --one-file-system "$root"
}
trap cleanup EXIT

T0=$SECONDS
summary=$dir/summary.txt
: > "$summary"
say() { echo "fresh-check: $*" | tee -a "$summary"; }
say "repository $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD || echo ' (with uncommitted changes)'), preset $preset, in $dir"
say "sources: ${sources[*]}"
[ ${#local_cas[@]} -eq 0 ] || say "this machine's local CAs, trusted in the root: ${local_cas[*]}"

net_opts=() net_env=()
if [ ${#local_cas[@]} -gt 0 ]; then
    net_opts=(--include=ca-certificates
              --customize-hook="cp ${local_cas[*]} \"\$1/usr/local/share/ca-certificates/\""
              --customize-hook='chroot "$1" update-ca-certificates >/dev/null')
    net_env=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi

t=$SECONDS
mmdebstrap --variant=minbase --quiet "${net_opts[@]}" bookworm "$root" "${sources[@]}" > "$dir/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$dir/mmdebstrap.log" >&2; say "mmdebstrap failed (log: $dir/mmdebstrap.log)"; exit 2; }
say "root built in $((SECONDS - t)) s: $(chroot "$root" dpkg-query -W | wc -l) packages"

for m in proc sys dev dev/pts dev/shm; do
    mkdir -p "$root/$m"
    mount --bind "/$m" "$root/$m"
    mounted+=("$root/$m")
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/root/llmos"
# (node_modules: a link a worktree may have to another checkout's packages)
git -C "$repo" ls-files -z --cached --others --exclude-standard | grep -zv '\(^\|/\)node_modules\(/\|$\)' |
    (cd "$repo" && tar --null -T - -cf -) | tar -xf - -C "$root/root/llmos"

# A login-like environment: nothing from this shell leaks in.
inside() { # log command
    local log=$1; shift
    chroot "$root" /usr/bin/env -i HOME=/root USER=root LANG=C.UTF-8 TERM=dumb "${net_env[@]}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/llmos && $*" > "$log" 2>&1
}
failed=0
t=$SECONDS
if inside "$dir/main.log" "./scripts/main.sh --preset $preset"; then
    say "1. ./scripts/main.sh --preset $preset: ok in $((SECONDS - t)) s"
else
    rc=$?
    failed=1
    say "1. ./scripts/main.sh --preset $preset: FAILED (exit $rc) after $((SECONDS - t)) s; its last lines:"
    tail -n 15 "$dir/main.log" | sed 's/^/    /' | tee -a "$summary"
fi
t=$SECONDS
if inside "$dir/test.log" "./scripts/install-deps.sh && make test"; then
    say "2. ./scripts/install-deps.sh && make test: ok in $((SECONDS - t)) s ($(tail -n 1 "$dir/test.log"))"
else
    failed=1
    say "2. ./scripts/install-deps.sh && make test: FAILED after $((SECONDS - t)) s; $(tail -n 1 "$dir/test.log")"
    grep -E '^(FAIL|failed:|install-deps|E:|make: \*\*\*)' "$dir/test.log" | sed 's/^/    /' | tee -a "$summary" || true
fi
say "total $((SECONDS - T0)) s; logs in $dir"
exit "$failed"
