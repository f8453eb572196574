#!/usr/bin/env bash
# The CAP3 pattern of the CGL-MapReduce paper (a map-only job that runs an existing program on
# every input file) with standard tools: sort each file of numbers, then gzip the sorted files,
# each step one `swell mr mapfiles` over a directory on N workers.
#
#   examples/mapfiles/run.sh [WORKERS]     (uses build/bin/swell; works in a temp directory)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
swell="${SWELL_BIN:-$repo/build/bin/swell}"
workers="${1:-2}"
work="$(mktemp -d /tmp/swell-mapfiles.XXXXXX)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/in"
for i in $(seq 1 16); do                       # 16 input files of shuffled numbers
  seq 1 $((i * 5000)) | shuf --random-source=<(yes "$i") > "$work/in/numbers-$i.txt"
done

"$swell" mr mapfiles -n "$workers" --in "$work/in" --out "$work/sorted" \
  --cmd 'sort -n {in} > {out}'
"$swell" mr mapfiles -n "$workers" --in "$work/sorted" --out "$work/gz" \
  --cmd 'gzip -9 -c {in} > {out}.gz'

# Check every output against the same tools run serially.
for f in "$work"/in/*; do
  name="$(basename "$f")"
  sort -n "$f" | cmp -s - <(gzip -dc "$work/gz/$name.gz") || { echo "mismatch: $name" >&2; exit 1; }
done
echo "all $(ls "$work/in" | wc -l) files sorted and compressed; each matches sort -n | gzip run serially"
