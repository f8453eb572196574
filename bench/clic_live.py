#!/usr/bin/env python3
"""CLIC's stress test on a live elastic cluster, time-compressed, against the simulator.

Called by `bench/run clic-live` (which owns the temporary directory and cleans up after a
failure). For each seed:

  1. `swell sim --workload clic --seed S --jobs-out F` writes the workload's jobs; the same
     run with `--json` gives the simulator's efficiency and waits.
  2. A live cluster of the `local` provider comes up with the same settings divided by SCALE
     (boot 90 s -> 1.5 s, autoscaler tick 10 s -> 1/6 s, CLIC's min_lifetime 600 s -> 10 s);
     every job is submitted at submit_s / SCALE as `sleep run_s / SCALE` (each burst of jobs
     that arrive together as one array job, so that they arrive at one instant).
  3. When every job has ended and the pool is back to 0 nodes, `swell stats --json` gives the
     live numbers, which are scaled back (waits x SCALE; efficiency has no unit).

The simulator bills nothing for shutdown here (--shutdown-seconds 0), because the local
provider's delete is a process stop that takes milliseconds. It runs twice: plain (decisions in
step with the arrivals, nodes usable the moment their boot ends), and modelling what the live
cluster measurably adds: the time from a node's boot delay ending to its registration (read
from the pool's records, x SCALE, as --register-seconds) and decisions at their own moments
(--tick-phase of half a tick, the mean of a uniform phase). The 10% comparison is against the
second. Progress goes to stderr; the last line on stdout is one JSON object.
"""

import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time

SCALE = 60.0
BOOT_S = 90          # CLIC's ~90 s boot (sim/sim.cc ClicTypes)
TICK_S = 10          # the simulator's autoscaler interval
MIN_LIFETIME_S = 600  # CLIC's minimum node lifetime
SHUTDOWN_S = 0


NAME = "clic-live"  # bench/clic_slurm.py, which uses what is here, names itself


def log(msg):
    print(f"[bench {NAME}] {msg}", file=sys.stderr, flush=True)


def run(argv, env=None, timeout=300, check=True):
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        log(f"FAIL: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[:800]}")
        sys.exit(1)
    return p


def simulate(swell, seed, jobs_file, extra=(), shutdown_s=SHUTDOWN_S):
    p = run([swell, "sim", "--workload", "clic", "--policy", "clic", "--seed", str(seed),
             "--boot-seconds", str(BOOT_S), "--shutdown-seconds", str(shutdown_s),
             "--tick", str(TICK_S), "--min-lifetime", str(MIN_LIFETIME_S),
             "--jobs-out", jobs_file, "--json", *extra])
    return json.loads(p.stdout.strip().splitlines()[-1])


def workload(swell, home, seed, **sim_args):
    """CLIC's jobs of `seed` (written to home/clic-jobs-SEED.csv) and the simulator's run of
    them: (the jobs file, the simulator's JSON, the jobs as {submit_s, run_s})."""
    jobs_file = os.path.join(home, f"clic-jobs-{seed}.csv")
    sim = simulate(swell, seed, jobs_file, **sim_args)
    with open(jobs_file) as f:
        jobs = [{"submit_s": float(r["submit_s"]), "run_s": float(r["run_s"])}
                for r in csv.DictReader(f)]
    return jobs_file, sim, jobs


def replay(jobs, scale, directory):
    """The bursts of `jobs` (those submitted at the same instant), `scale` times faster: for
    each, at its time (sleeping until then), yields (n, submit_s, a file of its run times / scale
    one a line, how many)."""
    bursts = {}
    for j in jobs:
        bursts.setdefault(j["submit_s"], []).append(j["run_s"])
    start = time.monotonic()
    for n, t in enumerate(sorted(bursts)):
        runs = os.path.join(directory, f"burst-{n}.txt")
        with open(runs, "w") as f:
            f.write("".join(f"{r / scale:.3f}\n" for r in bursts[t]))
        delay = start + t / scale - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield n, t, runs, len(bursts[t])


def registration_s(home):
    """Mean seconds from a node's create to its registration beyond the boot delay (live)."""
    db = sqlite3.connect(os.path.join(home, "state.db"))
    try:
        rows = db.execute("SELECT ready_ms - requested_ms FROM pool WHERE ready_ms > 0").fetchall()
    finally:
        db.close()
    if not rows:
        return 0.0
    return max(0.0, statistics.mean(r[0] for r in rows) / 1000.0 - BOOT_S / SCALE)


def clic_tables(scale, boot_timeout_s):
    """The [autoscaler] and [[node_type]] tables of CLIC's stress test, `scale` times faster."""
    return f"""[autoscaler]
policy = "clic"
min_lifetime_s = {round(MIN_LIFETIME_S / scale)}
boot_timeout_s = {boot_timeout_s}
interval_s = {TICK_S / scale:.4f}

[[node_type]]
name = "1cpu10diskstandard"
cpus = 1
memory_mb = 3840
disk_gb = 10
price_per_hour = 0.0475
"""


def cluster_file(path):
    with open(path, "w") as f:
        f.write(f"""# CLIC's stress-test cluster, {SCALE:g}x faster (bench/clic_live.py).
[cluster]
nodes = 0
node_timeout_s = 10
kill_wait_s = 1

[provider]
kind = "local"
boot_seconds = {BOOT_S / SCALE:.4f}

{clic_tables(SCALE, boot_timeout_s=60)}""")


def live(swell, home, seed, jobs):
    env = dict(os.environ, SWELL_HOME=home)
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(home, "..", f"clic-live-{seed}.toml")
    cluster_file(cfg)
    run([swell, "up", "--config", cfg], env=env, timeout=120)
    try:
        ids = []
        start = time.monotonic()
        # A burst is one array job (one transaction): its jobs arrive at one instant, as in the
        # simulator. Each task reads its own run time from the burst's file.
        for n, t, runs, count in replay(jobs, SCALE, home):
            p = run([swell, "submit", "--parsable", "-o", "/dev/null", "-J", f"clic-{n}",
                     f"--array=0-{count - 1}", "--wrap",
                     f'sleep "$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {runs})"'],
                    env=env, timeout=60)
            ids.append(p.stdout.strip().split(";")[0])
            log(f"seed {seed}: t={t:6.0f}s (live {time.monotonic() - start:5.1f}s): "
                f"{count} jobs submitted as array job {ids[-1]}")
        for jid in ids:
            run([swell, "wait", jid], env=env, timeout=600)
        log(f"seed {seed}: all {len(ids)} bursts ended after {time.monotonic() - start:.1f}s; "
            "waiting for the pool to return to 0 nodes")
        deadline = time.monotonic() + 300
        while True:
            nodes = json.loads(run([swell, "nodes", "--json"], env=env).stdout)["nodes"]
            if not nodes:
                break
            if time.monotonic() > deadline:
                log(f"FAIL: seed {seed}: {len(nodes)} nodes still up 300 s after the last job")
                sys.exit(1)
            time.sleep(0.5)
        stats = json.loads(run([swell, "stats", "--json"], env=env).stdout.strip())
        states = [json.loads(run([swell, "info", jid, "--json"], env=env).stdout)["job"]["state"]
                  for jid in ids]
        bad = [s for s in states if s != "COMPLETED"]
        if bad:
            log(f"FAIL: seed {seed}: {len(bad)} jobs did not complete: {bad[:5]}")
            sys.exit(1)
        return stats, time.monotonic() - start
    finally:
        run([swell, "down"], env=env, timeout=120, check=False)


def arguments(seeds):
    """--swell, --home (the bench's directory), --seeds (default `seeds`), --git."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--swell", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--seeds", default=seeds)
    ap.add_argument("--git", default="unknown")
    return ap.parse_args()


def main():
    a = arguments("1 2 3")
    rows = []
    for seed in [int(s) for s in a.seeds.split()]:
        jobs_file, sim, jobs = workload(a.swell, a.home, seed)
        log(f"seed {seed}: {len(jobs)} jobs; simulator: efficiency {sim['efficiency']:.3f}, "
            f"wait p50/p95/max {sim['wait_p50_s']:.0f}/{sim['wait_p95_s']:.0f}/"
            f"{sim['wait_max_s']:.0f} s, {sim['nodes_max']} nodes at most")
        home = os.path.join(a.home, f"home-{seed}")
        st, wall = live(a.swell, home, seed, jobs)
        reg_live = registration_s(home)
        reg_sim = round(reg_live * SCALE)
        model = simulate(a.swell, seed, jobs_file,
                         ("--register-seconds", str(reg_sim), "--tick-phase", str(TICK_S / 2)))
        log(f"seed {seed}: nodes registered {reg_live * 1000:.0f} ms after their boot delay "
            f"(x{SCALE:g} = {reg_sim} s); simulator with that and --tick-phase {TICK_S / 2:g}: "
            f"efficiency {model['efficiency']:.3f}, wait p50/p95/max {model['wait_p50_s']:.0f}/"
            f"{model['wait_p95_s']:.0f}/{model['wait_max_s']:.0f} s")
        lv = {
            "efficiency": round(st["efficiency"], 4),
            "job_hours": round(st["job_hours"] * SCALE, 3),
            "node_hours": round(st["node_hours"] * SCALE, 3),
            "wait_p50_s": round(st["wait_p50_s"] * SCALE, 1),
            "wait_p95_s": round(st["wait_p95_s"] * SCALE, 1),
            "wait_max_s": round(st["wait_max_s"] * SCALE, 1),
            "nodes_max": st["nodes_max"],
            "scale_ups": st["scale_ups"],
            "tasks": st["tasks"],
        }
        keys = ("efficiency", "job_hours", "node_hours", "wait_p50_s", "wait_p95_s", "wait_max_s",
                "nodes_max", "scale_ups", "jobs")
        sv = {k: sim[k] for k in keys}
        mv = {k: model[k] for k in keys}
        compared = ("efficiency", "node_hours", "wait_p50_s", "wait_p95_s", "wait_max_s")
        ratio = {k: round(lv[k] / sv[k], 3) if sv[k] else None for k in compared}
        mratio = {k: round(lv[k] / mv[k], 3) if mv[k] else None for k in compared}
        log(f"seed {seed}: live (x{SCALE:g}): efficiency {lv['efficiency']:.3f}, wait p50/p95/max "
            f"{lv['wait_p50_s']:.0f}/{lv['wait_p95_s']:.0f}/{lv['wait_max_s']:.0f} s, "
            f"{lv['nodes_max']} nodes at most, {wall:.0f} s wall; live/sim {ratio}; "
            f"live/modelled sim {mratio}")
        rows.append({"seed": seed, "sim": sv, "sim_modelled": mv, "live": lv,
                     "live_over_sim": ratio, "live_over_modelled": mratio,
                     "registration_ms": round(reg_live * 1000, 1), "wall_s": round(wall, 1)})
    mean = lambda what, k: round(statistics.mean(r[what][k] for r in rows), 3)
    worst = lambda k: round(max(abs(r["live_over_modelled"][k] - 1) for r in rows), 3)
    print(json.dumps({
        "name": "clic-live", "scale": SCALE, "seeds": [r["seed"] for r in rows],
        "efficiency_live_over_sim": mean("live_over_sim", "efficiency"),
        "wait_p95_live_over_sim": mean("live_over_sim", "wait_p95_s"),
        "efficiency_live_over_modelled": mean("live_over_modelled", "efficiency"),
        "wait_p50_live_over_modelled": mean("live_over_modelled", "wait_p50_s"),
        "wait_p95_live_over_modelled": mean("live_over_modelled", "wait_p95_s"),
        "wait_max_live_over_modelled": mean("live_over_modelled", "wait_max_s"),
        "worst_deviation_from_modelled": {k: worst(k) for k in
                                          ("efficiency", "wait_p50_s", "wait_p95_s", "wait_max_s")},
        "settings": {"boot_s": BOOT_S, "tick_s": TICK_S, "min_lifetime_s": MIN_LIFETIME_S,
                     "shutdown_s": SHUTDOWN_S},
        "runs": rows, "git": a.git,
    }))


if __name__ == "__main__":
    main()
