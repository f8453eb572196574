#!/usr/bin/env python3
"""How fast the commands start and answer (`bench/run startup`): swell against Debian's Slurm.

Three pairs, each timed as whole-process wall time (posix_spawn to waitpid, output to
/dev/null), the two commands of a pair alternating within one run, 5 warm-ups each first:
  - `squeue --version`: swell's (the thin client) against Debian's /usr/bin/squeue;
  - `squeue -h` on an idle cluster: swell's against this cluster (`swell up --nodes 2`, no
    jobs yet), Debian's against a real slurmctld of Slurm 22.05 with one idle node
    (tests/slurm/slurmbox.py: munged, slurmctld and a slurmd in a network namespace; root
    only, otherwise this pair is skipped and says why);
  - `swell run -- true` on the same idle cluster against a bare `/bin/true`.
Medians and their ratios; the targets are 1.5x for the squeue pairs and 8x for `swell run`.
Progress goes to stderr; the last line on stdout is one JSON object.
"""

import argparse
import json
import os
import statistics
import sys
import time

TARGETS = {"squeue_version": 1.5, "squeue_h": 1.5, "run_true": 8.0}
# Debian's commands read SLURM_CONF before they do anything, --version included.
MINIMAL_CONF = """ClusterName=bench
SlurmctldHost=localhost
NodeName=n1 CPUs=1 State=UNKNOWN
PartitionName=batch Nodes=n1 Default=YES
"""


def log(msg):
    print(f"[bench startup] {msg}", file=sys.stderr, flush=True)


def spawn_ms(argv, env):
    """Wall time of one whole process, in ms; fails the bench unless it exits 0."""
    devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=devnull)
    _, status = os.waitpid(pid, 0)
    ms = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        log(f"FAIL: {' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
        sys.exit(1)
    return ms


def alternate(name, a, b, rounds, warm=5):
    """Times (argv, env) pairs a and b alternately; which goes first alternates too."""
    for _ in range(warm):
        spawn_ms(*a)
        spawn_ms(*b)
    ta, tb = [], []
    for r in range(rounds):
        first, second = ((a, ta), (b, tb)) if r % 2 == 0 else ((b, tb), (a, ta))
        first[1].append(spawn_ms(*first[0]))
        second[1].append(spawn_ms(*second[0]))
    ma, mb = statistics.median(ta), statistics.median(tb)
    ratio = ma / mb
    met = ratio <= TARGETS[name]
    log(f"{name}: swell {ma:.2f} ms, baseline {mb:.2f} ms: {ratio:.2f}x "
        f"(target {TARGETS[name]}x: {'met' if met else 'NOT met'})")
    return {
        "swell_argv": " ".join(a[0]), "baseline_argv": " ".join(b[0]),
        "swell_median_ms": round(ma, 2), "baseline_median_ms": round(mb, 2),
        "swell_min_ms": round(min(ta), 2), "baseline_min_ms": round(min(tb), 2),
        "ratio": round(ratio, 3), "target": TARGETS[name], "met": met,
    }


def skipped(name, why):
    log(f"{name}: skipped: {why}")
    return {"skipped": why, "target": TARGETS[name]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swell", required=True, help="the swell binary, with swell-daemon beside it")
    ap.add_argument("--repo", required=True)
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--git", default="unknown")
    args = ap.parse_args()

    sys.path.insert(0, os.path.join(args.repo, "tests", "slurm"))
    import slurmbox  # noqa: E402 (found through the path above)

    bindir = os.path.dirname(os.path.abspath(args.swell))
    squeue = os.path.join(bindir, "squeue")
    if not os.path.exists(squeue):
        os.symlink("swell", squeue)
    env = dict(os.environ)
    for v in ("SLURM_JOB_ID", "SLURM_JOBID"):
        env.pop(v, None)
    debian = "/usr/bin/squeue"
    results = {"name": "startup", "rounds": args.rounds, "git": args.git}

    box = None
    missing = slurmbox.missing_binaries()
    if os.geteuid() != 0:
        box_skip = "needs root (a Slurm in a box)"
    elif missing:
        box_skip = "not installed: " + ", ".join(missing) + " (scripts/setup installs them)"
    else:
        box_skip = None
        log("starting Slurm 22.05 in a box (munged, slurmctld, one slurmd)")
        box = slurmbox.SlurmBox(nodes=1, log=log).__enter__()
    try:
        if box:
            slurm_env = box.env(env)
        else:
            conf = os.path.join(args.work, "slurm.conf")
            with open(conf, "w") as f:
                f.write(MINIMAL_CONF)
            slurm_env = dict(env, SLURM_CONF=conf)

        if os.access(debian, os.X_OK):
            results["squeue_version"] = alternate(
                "squeue_version", ([squeue, "--version"], env), ([debian, "--version"], slurm_env),
                args.rounds)
        else:
            results["squeue_version"] = skipped("squeue_version", f"{debian} is not installed")

        if box:
            # Both answer "no jobs": the cluster is fresh, the box has none.
            results["squeue_h"] = alternate(
                "squeue_h", ([squeue, "-h"], env), ([debian, "-h"], slurm_env), args.rounds)
        else:
            results["squeue_h"] = skipped("squeue_h", box_skip)
    finally:
        if box:
            box.close()

    results["run_true"] = alternate(
        "run_true", ([args.swell, "run", "--", "true"], env), (["/bin/true"], env), args.rounds)
    results["machine"] = {"nproc": os.cpu_count(), "load_average": os.getloadavg()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
