# tests/mpi_run.sh - sourced by the tests/t_mpi_*.sh: MPIRUN runs OpenMPI's
# mpirun with more ranks than cores allowed, as root where CI runs as root,
# on shared memory and loopback only (no network probing), shared memory
# copied through its buffers (the single-copy path, CMA, needs ptrace
# rights a container may not grant, and was erratic here: 4 MB all-reduces
# from 0.5 to 200 ms). Exits 1 (a failure, not a skip) when mpirun is
# missing: install-deps.sh installs it.
command -v mpirun >/dev/null || { echo "FAIL: mpirun not found (scripts/install-deps.sh installs openmpi-bin)"; exit 1; }
MPIRUN=(mpirun --oversubscribe --bind-to none --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
# under `make asan`: OpenMPI's own allocations are not llmos's leaks
[ "${LLMOS_ASAN:-}" = 1 ] && export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan_mpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# the gradient comparison tool: final parameters and per-step losses
mpi_compare() { "$PY" "$ROOT/tests/py/mpi_compare.py" "$@"; }
