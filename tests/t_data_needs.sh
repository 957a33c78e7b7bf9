#!/usr/bin/env bash
# llmos data packages / data check against dpkg, the independent reference:
# for every data source (corpus presets and conversation sources, from the
# source tables), `llmos data check` calls it missing exactly when dpkg says
# one of its Debian packages is not installed, and every file glob of an
# installed source matches a file that dpkg lists for its packages (so the
# table names the package that really provides the files). Whatever this
# machine has installed, the two views must agree.
set -eu
cd "$T"
"$LLMOS" data packages --table > table.tsv
rc=0
"$LLMOS" data check > check.txt 2> err.txt || rc=$?
cat check.txt err.txt
$PY - "$rc" <<'PY'
import fnmatch, subprocess, sys
rc = int(sys.argv[1])
rows = [l.rstrip("\n").split("\t") for l in open("table.tsv")]
assert len(rows) > 30, len(rows)
missing = {l.split(": ")[1] for l in open("check.txt") if l.startswith("missing: ")}
status = {}
def installed(p):
    if p not in status:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        status[p] = r.returncode == 0 and "install ok installed" in r.stdout
    return status[p]
files = {}
def listed(p):
    if p not in files:
        files[p] = subprocess.run(["dpkg", "-L", p], capture_output=True, text=True).stdout.split("\n")
    return files[p]
bad = []
for what, pkgs, globs in rows:
    pkgs = [] if pkgs == "-" else pkgs.split()
    want_missing = any(not installed(p) for p in pkgs)
    if (what in missing) != want_missing:
        bad.append("%s: llmos says %s, dpkg says %s" % (what, "missing" if what in missing else "present",
                                                        "missing" if want_missing else "installed"))
    if want_missing or not pkgs:
        continue
    for g in globs.split():
        if g.startswith("/var/lib/dpkg/info/"):
            continue  # the package's own file list: present when dpkg says installed
        if not any(fnmatch.fnmatch(f, g) for p in pkgs for f in listed(p)):
            bad.append("%s: no file of %s matches '%s'" % (what, " ".join(pkgs), g))
assert not bad, "\n".join(bad)
assert (rc != 0) == bool(missing), (rc, missing)
print("ok: %d sources, %d missing on this machine, all as dpkg says" % (len(rows), len(missing)))
PY
echo "t_data_needs: ok"
