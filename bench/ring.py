#!/usr/bin/env python3
"""The book's MPI ring through swell against bare mpirun on the same placement (`bench/run ring`).

Both runs put the same ranks on the same two nodes of this machine: swell as `swell run --mpi
--nodes 2 -n N ring` on its two `local` nodes (mpirun reaches the second node through
swell-rsh, the node daemons' relay), bare mpirun with `--host node1:k,node2:k` and a trivial
rsh agent that runs the command here (what ssh to another host would do, minus ssh). So the
ranks, the orteds and the transports are the same; what differs is swell's allocation, relay
and output streaming.

Two measures, runs alternating between the two, medians:
  - message latency: the ring's own "us per message" over many rounds;
  - launch overhead: the wall time of a whole run of one round (start to exit).
Progress goes to stderr; the last line on stdout is one JSON object.

With --srun, inside one allocation (`salloc -N 2`, which runs this script again with --inner):
`srun ring` (swell's node daemons start the ranks and serve them PMIx) against `mpirun ring`
(its orted on the second node started through swell-rsh), the same ranks on the same nodes.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
AGENT = """#!/bin/sh
# The bare baseline's "ssh": runs the command on this machine, with the named node's own
# directory for shared-memory segments (as swell's node daemons give each node).
host="$1"; shift
dir="{work}/shm/$host"
mkdir -p "$dir"
OMPI_MCA_btl_vader_backing_directory="$dir" OMPI_MCA_orte_tmpdir_base="$dir" exec sh -c "$*"
"""


def log(msg):
    print(f"[bench ring] {msg}", file=sys.stderr, flush=True)


def timed(argv, env):
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    wall = time.monotonic() - start
    if p.returncode != 0:
        log(f"FAIL: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-800:]}")
        sys.exit(1)
    m = re.search(r"ring of (\d+) ranks: (\d+) messages, ([0-9.]+) us per message", p.stdout)
    if not m:
        log(f"FAIL: no summary line from {' '.join(argv)}:\n{p.stdout[-800:]}")
        sys.exit(1)
    hops = len(re.findall(r"^hop \d+: rank \d+ on ", p.stdout, re.M))
    return wall, float(m.group(3)), hops


def measure(variants, a, env):
    """Runs the (name, argv) variants alternately a.runs times: the ring's latency over a.rounds,
    and the wall time of a one-round run. Medians by name."""
    res = {name: {"lat": [], "launch": []} for name, _ in variants}
    for i in range(a.runs):
        for name, argv in variants:
            _, us, hops = timed(argv + [str(a.rounds)], env)
            if hops != a.ranks:
                sys.exit(f"{name}: {hops} hop lines, expected {a.ranks}")
            wall, _, _ = timed(argv + ["1"], env)
            res[name]["lat"].append(us)
            res[name]["launch"].append(wall)
            log(f"run {i + 1}/{a.runs} {name}: {us:.3f} us per message, one-round run "
                f"{wall * 1000:.0f} ms")
    return {n: {k: statistics.median(v) for k, v in r.items()} for n, r in res.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swell", required=True)
    ap.add_argument("--ring", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--git", default="unknown")
    ap.add_argument("--srun", action="store_true", help="srun against mpirun in one allocation")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.srun:
        return srun_vs_mpirun(a)
    per_node = a.ranks // 2
    if a.ranks % 2 or per_node < 1:
        sys.exit("--ranks must be even (the same number on each of the two nodes)")
    agent = os.path.join(a.work, "local-rsh")
    with open(agent, "w") as f:
        f.write(AGENT.format(work=a.work))
    os.chmod(agent, 0o755)
    env = dict(os.environ, **MPI_ENV)
    for k in list(env):
        if k.startswith("SLURM_"):
            del env[k]
    mca = {"plm": "rsh", "plm_rsh_agent": agent, "plm_rsh_no_tree_spawn": "1",
           "hwloc_base_binding_policy": "none", "oob_tcp_if_include": "lo",
           "btl_tcp_if_include": "lo"}
    bare = ["mpirun", "-n", str(a.ranks), "--host", f"node1:{per_node},node2:{per_node}"]
    for k, v in mca.items():
        bare += ["--mca", k, v]
    bare.append(a.ring)
    swell = [a.swell, "run", "--mpi", "--nodes", "2", "-n", str(a.ranks), a.ring]

    med = measure((("bare", bare), ("swell", swell)), a, env)
    out = {
        "bench": "ring", "git": a.git, "cpus": os.cpu_count(), "ranks": a.ranks, "nodes": 2,
        "rounds": a.rounds, "runs": a.runs,
        "bare_us_per_message": round(med["bare"]["lat"], 3),
        "swell_us_per_message": round(med["swell"]["lat"], 3),
        "latency_ratio": round(med["swell"]["lat"] / med["bare"]["lat"], 3),
        "bare_launch_ms": round(med["bare"]["launch"] * 1000, 1),
        "swell_launch_ms": round(med["swell"]["launch"] * 1000, 1),
        "launch_overhead_ms": round((med["swell"]["launch"] - med["bare"]["launch"]) * 1000, 1),
    }
    print(json.dumps(out), flush=True)


def srun_vs_mpirun(a):
    per_node = a.ranks // 2
    env = dict(os.environ, **MPI_ENV)
    if not a.inner:
        for k in list(env):
            if k.startswith("SLURM_"):
                del env[k]
        salloc = os.path.join(os.path.dirname(a.swell), "salloc")
        argv = [salloc, "-N", "2", f"--ntasks-per-node={per_node}", sys.executable,
                os.path.abspath(__file__)] + [x for x in sys.argv[1:]] + ["--inner"]
        p = subprocess.run(argv, env=env, timeout=3600, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"salloc exited {p.returncode}")
        print(p.stdout.strip().splitlines()[-1], flush=True)
        return
    srun = [os.path.join(os.path.dirname(a.swell), "srun"), a.ring]
    mpirun = ["mpirun", "-n", str(a.ranks), a.ring]
    med = measure((("mpirun", mpirun), ("srun", srun)), a, env)
    print(json.dumps({
        "bench": "ring-srun", "git": a.git, "cpus": os.cpu_count(), "ranks": a.ranks,
        "nodes": 2, "rounds": a.rounds, "runs": a.runs,
        "mpirun_us_per_message": round(med["mpirun"]["lat"], 3),
        "srun_us_per_message": round(med["srun"]["lat"], 3),
        "latency_ratio": round(med["srun"]["lat"] / med["mpirun"]["lat"], 3),
        "mpirun_launch_ms": round(med["mpirun"]["launch"] * 1000, 1),
        "srun_launch_ms": round(med["srun"]["launch"] * 1000, 1),
        "launch_ratio": round(med["srun"]["launch"] / med["mpirun"]["launch"], 3),
    }), flush=True)


if __name__ == "__main__":
    main()
