# Sourced by the faulty provider's scripts (bench/run provider-faults): the local-scripts
# provider (examples/providers/local-scripts) with faults injected at random, each logged to
# $SWELL_FAULT_LOG as "<kind> <name>". Percentages in SWELL_FAULT_* (0 turns a fault off).
REAL="$(cd "$(dirname "$0")/../../examples/providers/local-scripts" && pwd)"
roll() { echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 100 )); }
fault() { echo "$1 ${2:-}" >>"$SWELL_FAULT_LOG"; }
