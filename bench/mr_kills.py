#!/usr/bin/env python3
"""Kill libswell_mr's workers 100 times during one K-means run: the centres must be the serial
program's, bit for bit (docs/RELIABILITY.md, issue 16).

Called by `bench/run mr-kills` (which owns the temporary directory). K-means (`examples/kmeans`)
runs with `--local 3`, again and again until the kills add up; every 0.05-0.25 s a worker
process is killed with SIGKILL and a new one is started in its place (the same binary, arguments and
SWELL_MR_DRIVER/SWELL_MR_KEY as the killed one: it joins at the next iteration boundary, as
an elastic worker does). The driver reruns the iteration a death cut off (docs/mapreduce.md,
"Failures and elastic workers"). After each run, the centres are compared with
kmeans-serial's on the same data. Progress goes to stderr; the last line on stdout is one JSON object.
"""

import argparse
import glob
import json
import os
import random
import signal
import subprocess
import sys
import time


def log(msg):
    print(f"[bench mr-kills] {msg}", file=sys.stderr, flush=True)


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        log(f"FAIL: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-800:]}")
        sys.exit(1)
    return p


def children(pid):
    """The pids whose parent is `pid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return out


def worker_launch(pid):
    """(argv, environment) of a running worker, to start another like it."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(e.decode(errors="replace").split("=", 1) for e in f.read().split(b"\0")
                   if b"=" in e)
    env.pop("SWELL_MR_CPU", None)  # a replacement is not bound
    return argv, env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with kmeans and kmeans-serial")
    ap.add_argument("--work", required=True)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--points", type=int, default=1000000)
    ap.add_argument("--git", default="unknown")
    a = ap.parse_args()
    random.seed(16)
    data = os.path.join(a.work, "data")
    common = ["--dims", "3", "--k", "8", "--iterations", "300"]
    run([os.path.join(a.bin, "kmeans-serial"), "--generate", str(a.points), "--data", data,
         "--partitions", "12", "--seed", "7", "--dims", "3", "--k", "8", "--iterations", "1"])
    parts = sorted(glob.glob(os.path.join(data, "part-*.bin")))
    serial = os.path.join(a.work, "serial.txt")
    run([os.path.join(a.bin, "kmeans-serial"), "--input", *parts, *common, "--output", serial])

    runs, kills, t0 = [], 0, time.monotonic()
    while kills < a.kills:
        n, same = kill_during_one_run(a, parts, common, len(runs), serial)
        kills += n
        runs.append({"kills": n, "identical": same})
        if not same:
            break
    wall = time.monotonic() - t0
    identical = all(r["identical"] for r in runs)
    log(f"{kills} workers killed (each replaced) over {len(runs)} runs of {common[-1]} iterations "
        f"at most, {wall:.1f} s; centres {'identical to' if identical else 'DIFFERENT from'} the "
        f"serial program's in {'every run' if identical else 'a run'}")
    print(json.dumps({"bench": "mr-kills", "kills": kills, "runs": len(runs),
                      "points": a.points, "identical": identical, "wall_s": round(wall, 1),
                      "git": a.git}))
    if not identical:
        sys.exit(1)


def kill_during_one_run(a, parts, common, n, serial):
    """One K-means run, its workers killed and replaced until it ends: (kills, identical)."""
    swell_out = os.path.join(a.work, f"swell-{n}.txt")
    driver = subprocess.Popen([os.path.join(a.bin, "kmeans"), "--local", "3", "--input", *parts,
                               *common, "--output", swell_out, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started, kills = [], 0
    try:
        while driver.poll() is None:
            time.sleep(random.uniform(0.05, 0.25))
            workers = children(driver.pid) + [p.pid for p in started if p.poll() is None]
            workers = [w for w in workers if os.path.exists(f"/proc/{w}")]
            if not workers:
                continue
            victim = random.choice(workers)
            try:
                argv, env = worker_launch(victim)
                os.kill(victim, signal.SIGKILL)
            except (OSError, ValueError):
                continue  # it ended meanwhile
            kills += 1
            started.append(subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        out, err = driver.communicate(timeout=1800)
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
            p.wait()
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    if driver.returncode != 0:
        log(f"FAIL: kmeans exited {driver.returncode}: {err.strip()[-800:]}")
        sys.exit(1)
    stats = json.loads(out.strip().splitlines()[-1])
    with open(serial) as f, open(swell_out) as g:
        same = f.read() == g.read()
    log(f"run {n + 1}: {kills} kills, {stats.get('iterations')} iterations, "
        f"{'identical' if same else 'DIFFERENT'}")
    return kills, same


if __name__ == "__main__":
    main()
