#!/usr/bin/env python3
"""CLIC's stress test on the embedded Slurm grown by `swell autoscale`, against the simulator.

Called by `bench/run clic-slurm` (root; it owns the temporary directory). For each seed:

  1. `swell sim --workload clic --seed S --jobs-out F --json` writes the workload's jobs and
     gives the simulator's efficiency, waits and node-hours (CLIC's settings: boot 90 s,
     decisions every 10 s, min_lifetime 600 s, shutdown not billed).
  2. `swell up` of an embedded Slurm ([slurm] embedded = true, netns provider) with the same
     settings divided by SCALE; every burst of jobs is submitted with Debian's `sbatch` at
     submit_s / SCALE as one array job whose tasks print their start time and sleep
     run_s / SCALE.
  3. When every job has ended and Slurm has no node left: the waits (a task's start minus its
     burst's submit, x SCALE), the node-hours paid (the autoscaler's ledger, requested to gone,
     x SCALE) and the efficiency (the workload's job-hours over those node-hours).

SCALE is 20, not clic-live's 60: Slurm's own scheduling passes take a fraction of a second, which
x60 would be most of a simulated wait. Progress goes to stderr; the last line on stdout is one
JSON object.
"""

import csv
import glob
import json
import os
import signal
import sys
import time

import clic_live as cl  # noqa: E402  (beside this file: CLIC's settings, run, simulate)

cl.NAME = "clic-slurm"
log, run = cl.log, cl.run
BOOT_S, TICK_S, MIN_LIFETIME_S = cl.BOOT_S, cl.TICK_S, cl.MIN_LIFETIME_S
SCALE = 20.0


def simulate(swell, seed, jobs_file, shutdown_s=0, extra=()):
    return cl.simulate(swell, seed, jobs_file, extra, shutdown_s=shutdown_s)


def cluster_file(path):
    with open(path, "w") as f:
        f.write(f"""# CLIC's stress-test cluster on the embedded Slurm, {SCALE:g}x faster.
[slurm]
embedded = true

[provider]
kind = "netns"
subnet = "10.216.0.0/24"
bridge = "swbench0"
prefix = "swbench-"
boot_seconds = {BOOT_S / SCALE:.4f}

{cl.clic_tables(SCALE, boot_timeout_s=120)}""")


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def live(swell, work, seed, jobs):
    home = os.path.join(work, f"home-{seed}")
    out = os.path.join(work, f"out-{seed}")
    os.makedirs(out)
    env = dict(os.environ, SWELL_HOME=home)
    cfg = os.path.join(work, f"clic-slurm-{seed}.toml")
    cluster_file(cfg)
    run([swell, "up", "--config", cfg], env=env, timeout=120)
    env["SLURM_CONF"] = os.path.join(home, "slurm", "slurm.conf")
    try:
        submitted = {}  # array job id -> wall time of its submit
        start = time.monotonic()
        for n, _, runs, count in cl.replay(jobs, SCALE, out):
            at = time.time()
            p = run(["/usr/bin/sbatch", "--parsable", "-J", f"clic-{n}",
                     f"--array=0-{count - 1}", "-o", f"{out}/%A_%a.out", "--wrap",
                     f'date +%s.%N; hostname; sleep "$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" '
                     f'{runs})"; date +%s.%N'],
                    env=env, timeout=60)
            submitted[p.stdout.strip().split(";")[0]] = at
        log(f"seed {seed}: {len(submitted)} bursts submitted in {time.monotonic() - start:.0f} s")
        deadline = time.monotonic() + 1800
        while run(["/usr/bin/squeue", "-h", "-t", "PD,R,CG,CF"], env=env).stdout.strip():
            if time.monotonic() > deadline:
                log(f"FAIL: seed {seed}: jobs still queued 30 min after the last submit")
                sys.exit(1)
            time.sleep(1)
        wall = time.monotonic() - start
        log(f"seed {seed}: every job ended after {wall:.0f} s; waiting for 0 nodes")
        deadline = time.monotonic() + 600
        while run(["/usr/bin/sinfo", "-h", "-N"], env=env).stdout.strip():
            if time.monotonic() > deadline:
                log(f"FAIL: seed {seed}: nodes still up 10 min after the last job")
                sys.exit(1)
            time.sleep(1)
        waits, tasks = [], []  # tasks: (host, began, ended), wall clock
        for path in glob.glob(f"{out}/*_*.out"):
            array = os.path.basename(path).split("_")[0]
            with open(path) as f:
                began, host, ended = f.read().split()[:3]
            waits.append(max(0.0, float(began) - submitted[array]) * SCALE)
            tasks.append((host, float(began), float(ended)))
        if len(waits) != len(jobs):
            log(f"FAIL: seed {seed}: {len(waits)} of {len(jobs)} jobs ran")
            sys.exit(1)
        nodes, registration, deletion, first_task, tail = [], [], [], [], []
        by_host = {}
        for host, began, ended in tasks:
            by_host.setdefault(host, []).append((began, ended))
        with open(os.path.join(home, "autoscale-nodes.csv")) as f:
            for row in csv.reader(f):
                requested, ready, gone = int(row[2]), int(row[3]), int(row[4])
                nodes.append((requested, gone))
                if ready:
                    registration.append((ready - requested) / 1000 - BOOT_S / SCALE)
                    # From the end of its boot delay to its first task's start: Slurm's
                    # registration, scheduling and launch on a new node together.
                    if row[0] in by_host:
                        first = min(b for b, _ in by_host[row[0]])
                        first_task.append(first - requested / 1000 - BOOT_S / SCALE)
                        # From its last task's end until it was gone: the idle tail the
                        # policy's min_lifetime, its decision and the delete make.
                        tail.append(gone / 1000 - max(e for _, e in by_host[row[0]]))
                deletion.append(int(row[6]) / 1000)
        # A task started within a second of one ending on the same node took that node's CPU
        # back: Slurm's turnaround from a job's end to the next one's start there.
        turnaround = []
        for runs in by_host.values():
            ends = sorted(e for _, e in runs)
            for b, _ in runs:
                gaps = [b - e for e in ends if 0 <= b - e < 1.0]
                if gaps:
                    turnaround.append(min(gaps))
        node_hours = sum(g - r for r, g in nodes) / 3.6e6 * SCALE
        events = sorted([(r, 1) for r, g in nodes] + [(g, -1) for r, g in nodes])
        live_now = peak = 0
        for _, d in events:
            live_now += d
            peak = max(peak, live_now)
        job_hours = sum(j["run_s"] for j in jobs) / 3600
        return {
            "efficiency": round(job_hours / node_hours, 4) if node_hours else 0,
            "job_hours": round(job_hours, 3), "node_hours": round(node_hours, 3),
            "wait_p50_s": round(percentile(waits, 0.5), 1),
            "wait_p95_s": round(percentile(waits, 0.95), 1),
            "wait_max_s": round(max(waits), 1), "nodes_max": peak, "nodes_made": len(nodes),
            "jobs": len(waits), "wall_s": round(wall, 1),
            # What the live cluster adds that the plain simulator does not know, in its seconds:
            # slurmd ready after the boot delay (namespace, slurmd start, registration), and a
            # delete (drain, wait, namespace gone, scontrol delete), billed until done.
            "registration_s": round(sum(registration) / max(1, len(registration)), 3),
            "deletion_s": round(sum(deletion) / max(1, len(deletion)), 3),
            # Medians: a node made for a job another node then took waits for a later burst,
            # which says nothing about Slurm's latency.
            "first_task_s": round(percentile(first_task, 0.5), 3),
            "first_task_mean_s": round(sum(first_task) / max(1, len(first_task)), 3),
            "turnaround_s": round(percentile(turnaround, 0.5), 3),
            "turnarounds": len(turnaround),
            "idle_tail_s": round(sum(tail) / max(1, len(tail)) * SCALE, 1),
            "nodes_unused": len(nodes) - len(tail)}
    finally:
        run([swell, "down"], env=env, timeout=300, check=False)


def main():
    a = cl.arguments("1")
    # A stopped bench still takes its embedded Slurm down (the `finally` of live()).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    if os.geteuid() != 0:
        log("FAIL: needs root (the embedded Slurm: slurmd, network namespaces)")
        sys.exit(1)
    rows = []
    for seed in [int(s) for s in a.seeds.split()]:
        jobs_file, sim, jobs = cl.workload(a.swell, a.home, seed)
        log(f"seed {seed}: {len(jobs)} jobs; simulator: efficiency {sim['efficiency']:.3f}, "
            f"node-hours {sim['node_hours']:.2f}, wait p50/p95/max {sim['wait_p50_s']:.0f}/"
            f"{sim['wait_p95_s']:.0f}/{sim['wait_max_s']:.0f} s, {sim['nodes_max']} nodes at most")
        lv = live(a.swell, a.home, seed, jobs)
        keys = ("efficiency", "node_hours", "wait_p50_s", "wait_p95_s", "wait_max_s", "nodes_max")
        ratio = {k: round(lv[k] / sim[k], 3) if sim[k] else None for k in keys}
        log(f"seed {seed}: Slurm (x{SCALE:g}): efficiency {lv['efficiency']:.3f}, node-hours "
            f"{lv['node_hours']:.2f}, wait p50/p95/max {lv['wait_p50_s']:.0f}/"
            f"{lv['wait_p95_s']:.0f}/{lv['wait_max_s']:.0f} s, {lv['nodes_max']} nodes at most, "
            f"{lv['wall_s']:.0f} s wall; Slurm/sim {ratio}")
        # The simulator again, told the two overheads measured live (x SCALE) and deciding at
        # its own moments (half a tick after the arrivals, the mean of a uniform phase). A node
        # is usable (--register-seconds) when Slurm starts its first job, not when it registers:
        # slurmctld places work on a new dynamic node at its next periodic pass, about 2 s
        # later (docs/slurm-autoscale.md).
        reg, dele = round(lv["first_task_s"] * SCALE), round(lv["deletion_s"] * SCALE)
        model = simulate(a.swell, seed, jobs_file, shutdown_s=dele,
                         extra=("--register-seconds", str(reg), "--tick-phase", str(TICK_S / 2)))
        mratio = {k: round(lv[k] / model[k], 3) if model[k] else None for k in keys}
        log(f"seed {seed}: a new node's first task {lv['first_task_s']:.2f} s after its boot "
            f"delay (median; mean {lv['first_task_mean_s']:.2f} s); a job's start "
            f"{lv['turnaround_s']:.2f} s after the end of the one before it on its node (median "
            f"of {lv['turnarounds']})")
        log(f"seed {seed}: nodes made: {lv['nodes_made']} live ({lv['nodes_unused']} never ran a "
            f"job), {model['scale_ups']} in the modelled simulator; a node's idle tail after its "
            f"last job {lv['idle_tail_s']:.0f} s (x{SCALE:g}, mean)")
        log(f"seed {seed}: registration {lv['registration_s']:.2f} s, first task "
            f"{lv['first_task_s']:.2f} s and deletion {lv['deletion_s']:.2f} s live (x{SCALE:g}: "
            f"usable after {reg} s, deleted in {dele} s); the simulator told "
            f"them: efficiency {model['efficiency']:.3f}, node-hours {model['node_hours']:.2f}, "
            f"wait p50/p95/max {model['wait_p50_s']:.0f}/{model['wait_p95_s']:.0f}/"
            f"{model['wait_max_s']:.0f} s; Slurm/modelled {mratio}")
        rows.append({"seed": seed, "sim": {k: sim[k] for k in keys + ("jobs",)},
                     "sim_modelled": {k: model[k] for k in keys}, "slurm": lv,
                     "slurm_over_sim": ratio, "slurm_over_modelled": mratio})
    print(json.dumps({"name": "clic-slurm", "scale": SCALE, "runs": rows, "git": a.git,
                      "settings": {"boot_s": BOOT_S, "tick_s": TICK_S,
                                   "min_lifetime_s": MIN_LIFETIME_S, "shutdown_s": 0}}))


if __name__ == "__main__":
    main()
