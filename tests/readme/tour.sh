#!/usr/bin/env bash
# Runs README.md's tour as written (the ```sh block under "## A five-minute tour") top to
# bottom on the default cluster: build/bin first on the PATH, in a scratch directory that sees
# the repository's examples/, against its own SWELL_HOME. Fails at the first command that
# fails; whatever the tour started is stopped and the scratch directory removed, also then.
#   tests/readme/tour.sh REPO BIN_DIR
set -euo pipefail
repo="$(cd "$1" && pwd)"
bin="$(cd "$2" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/swell-tour.XXXXXX")"
export SWELL_HOME="$work/home"
cleanup() {
  "$bin/swell" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ln -s "$repo/examples" "$work/examples"
awk '/^## A five-minute tour/ {t = 1} t && /^```sh$/ {f = 1; next} f && /^```$/ {exit} f' \
  "$repo/README.md" > "$work/tour.sh"
[[ -s "$work/tour.sh" ]] || { echo "tour: no sh block under '## A five-minute tour'" >&2; exit 1; }
export PATH="$bin:$PATH"
export USER="${USER:-$(id -un)}"
export HOME="$work"  # libswell_mr's rendezvous files and the like stay in the scratch directory
# As root, OpenMPI's mpirun wants to be told it may run (a user's does not).
if [[ "$(id -u)" == 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
cd "$work"
bash -euo pipefail -x tour.sh
# What the tour says it prints.
[[ "$(cat sum.out)" == 338350 ]] || { echo "tour: sum.out is '$(cat sum.out)', not 338350" >&2; exit 1; }
grep -q "ring of 2 ranks: 40 messages" mpi.log || { echo "tour: no ring in mpi.log" >&2; exit 1; }
echo "tour: every command of README.md's tour ran"
