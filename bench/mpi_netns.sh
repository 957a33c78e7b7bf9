#!/usr/bin/env bash
# bench/mpi_netns.sh - several machines simulated on this one: each rank in
# its own network namespace (ip netns) with a veth to a bridge, so ranks
# reach each other over TCP only, as on a cluster; nothing leaves the
# machine. mpirun starts the ranks through an "rsh agent" that enters the
# namespace instead of ssh-ing to a host (the hostfile names the ranks'
# addresses). Optionally each link is limited with a token bucket (tc tbf)
# to a cluster's bandwidth. Needs root (CAP_NET_ADMIN).
#
#   bench/mpi_netns.sh [RANKS (2)] [RATE (none, e.g. 10gbit)] [-- CMD...]
#
# Without CMD it runs bench/mpi_allreduce.c (all-reduce bandwidth) and a
# 12-step pretrain of the tiny preset on the ranks. Everything it made
# (namespaces, bridge, links) is removed at exit.
set -eu
cd "$(dirname "$0")/.."
ranks=${1:-2}
rate=${2:-none}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift
PY=/usr/bin/python3
LLMOS=${LLMOS:-$PWD/llmos}
work=$(mktemp -d /tmp/llmos-netns.XXXXXX)
br=llmosbr$$
cleanup() {
    for i in $(seq "$ranks"); do ip netns del "llmos$$-$i" 2>/dev/null || true; done
    ip link del "$br" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
net=10.$((($$ >> 8) % 200 + 20)).$(($$ % 250)) # a private /24 of our own
ip link add "$br" type bridge
ip addr add "$net.1/24" dev "$br"
ip link set "$br" up
: >"$work/hosts"
for i in $(seq "$ranks"); do
    ns=llmos$$-$i
    ip netns add "$ns"
    ip link add "lv$$-$i" type veth peer name "lp$$-$i"
    ip link set "lp$$-$i" netns "$ns"
    ip link set "lv$$-$i" master "$br" up
    ip netns exec "$ns" ip addr add "$net.$((10 + i))/24" dev "lp$$-$i"
    ip netns exec "$ns" ip link set "lp$$-$i" up
    ip netns exec "$ns" ip link set lo up
    [ "$rate" != none ] && ip netns exec "$ns" tc qdisc add dev "lp$$-$i" root tbf rate "$rate" burst 256kb latency 50ms
    echo "$net.$((10 + i)) slots=1" >>"$work/hosts"
done
# the agent mpirun calls as `agent [options] HOST COMMAND...`: run COMMAND in HOST's namespace
cat >"$work/agent" <<AGENT
#!/bin/sh
while [ "\${1#-}" != "\$1" ]; do shift; done
host=\$1; shift
exec ip netns exec "llmos$$-\$((\${host##*.} - 10))" sh -c "\$*"
AGENT
chmod +x "$work/agent"
MPIRUN=(mpirun --hostfile "$work/hosts" --mca plm_rsh_agent "$work/agent" --mca btl self,tcp
        --mca btl_tcp_if_include "$net.0/24" --mca oob_tcp_if_include "$net.0/24" --bind-to none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
echo "netns: $ranks ranks on $net.11-$((10 + ranks)), one namespace each, link rate $rate"
if [ $# -gt 0 ]; then
    "${MPIRUN[@]}" -np "$ranks" "$@"
    exit
fi
mpicc -O2 -o "$work/mpi_allreduce" bench/mpi_allreduce.c
"${MPIRUN[@]}" -np "$ranks" "$work/mpi_allreduce" 64
"$PY" tests/py/train_data.py "$work/data" 8192 2000000 20000 >/dev/null
"${MPIRUN[@]}" -np "$ranks" "$LLMOS" pretrain --data "$work/data" --preset tiny --batch 8 --threads 1 --steps 12 \
    --eval-every 0 --save-every 0 --quiet --out "$work/m.gguf"
"$PY" - "$work/m.log.jsonl" <<'PYEOF'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if 'loss' in r and r['step'] > 1]
sec = sum(r['sec'] for r in rows)
print('pretrain tiny over the namespaces: %.0f tok/s, %.1f%% of the step time in MPI, final loss %.4f'
      % (sum(r['tokens'] - p['tokens'] for p, r in zip(rows, rows[1:])) / sum(r['sec'] for r in rows[1:]),
         100 * sum(r['comm_sec'] for r in rows) / sec, rows[-1]['loss']))
PYEOF
