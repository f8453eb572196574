#!/usr/bin/env python3
"""The head at scale (bench/run head-scale; docs/BENCHMARKS.md, "The head at scale").

On a TCP cluster with no node of its own, bench/head_load plays NODES nodes (each its own TLS
connection, joined with one join token of NODES uses), heartbeating at 1 Hz and running what
the head gives them for 30 s each. Measured, in order:
  1. the head's cpu over 60 s with the nodes idle (target: under 20% of one core);
  2. submissions from THREADS connections of the head's unix socket for 60 s and on until
     JOBS were acknowledged (target: 1,000/s sustained), the head's cpu meanwhile;
  3. `squeue` (all lines) with the queue full, 5 times (target: under 1 s); with --dashboard
     (the head then serves it throughout) its endpoints (5 times each) and its page in a
     headless Chromium; and the head's cpu over 60 s with the nodes busy and the queue full;
  4. a head killed with SIGKILL in the middle of a submission run: after `swell up` again,
     every id the client was given is in the head's database.
Prints one JSON line with the figures.
"""

import argparse
import json
import shutil
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request


def log(msg):
    print(f"[bench head-scale] {msg}", file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def head_pid(home):
    with open(os.path.join(home, "head.pid")) as f:
        return int(f.read().strip())


def head_cpu(home, seconds):
    pid = head_pid(home)
    a, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    b, t1 = cpu_seconds(pid), time.monotonic()
    return (b - a) / (t1 - t0)


def dashboard(home, work):
    """The dashboard with the queue full: each endpoint 5 times (median and max seconds), and
    the page rendered by a headless Chromium once (its wall time), when Chromium is there."""
    with open(os.path.join(home, "head.http")) as f:
        url = f.readline().strip()
    out = {}
    for path in ("api/overview", "metrics", "api/jobs?state=PENDING&limit=100", "api/nodes",
                 "api/series"):
        walls, size = [], 0
        for _ in range(5):
            t = time.monotonic()
            with urllib.request.urlopen(url + path, timeout=60) as r:
                size = len(r.read())
            walls.append(time.monotonic() - t)
        out[path] = {"median_s": round(statistics.median(walls), 3), "max_s": round(max(walls), 3),
                     "bytes": size}
        log(f"dashboard /{path}: median {statistics.median(walls):.3f} s, max {max(walls):.3f} s, "
            f"{size} bytes")
    if shutil.which("chromium"):
        t = time.monotonic()
        dom = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--user-data-dir=" + os.path.join(work, "chromium"), "--virtual-time-budget=5000",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120).stdout
        out["page_render_s"] = round(time.monotonic() - t, 2)
        out["page_shows_nodes"] = "load0001" in dom
        log(f"dashboard page in headless Chromium: {out['page_render_s']} s")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with swell, swell-daemon, squeue")
    ap.add_argument("--head-load", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--git", default="unknown")
    ap.add_argument("--dashboard", action="store_true",
                    help="serve the dashboard (its sampler runs throughout) and time it")
    a = ap.parse_args()
    swell = os.path.join(a.bin, "swell")
    env = dict(os.environ, SWELL_HOME=a.home)
    work = os.path.join(a.home, "head-scale")
    os.makedirs(work, exist_ok=True)
    conf = os.path.join(work, "cluster.toml")
    with open(conf, "w") as f:
        f.write('[cluster]\nnodes = 0\ntcp = "127.0.0.1:0"\n' +
                ('http = "127.0.0.1:0"\n' if a.dashboard else ''))

    def up():
        subprocess.run([swell, "up", "--config", conf], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    up()
    with open(os.path.join(a.home, "head.port")) as f:
        port = f.readline().strip()
    token = subprocess.run([swell, "token", "--uses", str(a.nodes), "--ttl", "7200"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()[0]
    nodes_err = open(os.path.join(work, "nodes.log"), "w")
    nodes = subprocess.Popen(
        [a.head_load, "nodes", "--head", f"127.0.0.1:{port}", "--token", token,
         "--count", str(a.nodes), "--dir", os.path.join(work, "certs"), "--job-seconds", "30"],
        stdout=subprocess.PIPE, stderr=nodes_err, text=True)
    result = {"bench": "head-scale", "git": a.git, "nodes": a.nodes, "cpus": os.cpu_count()}
    try:
        line = nodes.stdout.readline()
        if not line.startswith("ready"):
            raise SystemExit(f"head_load nodes did not get ready: {line!r} (see {nodes_err.name})")
        result["nodes_ready_s"] = float(line.split()[-2])
        log(line.strip())
        time.sleep(5)
        result["head_cpu_idle_nodes"] = round(head_cpu(a.home, 60), 3)
        log(f"head cpu, {a.nodes} nodes heartbeating, no job: {result['head_cpu_idle_nodes']:.1%}")

        sock = "unix:" + os.path.join(a.home, "head.sock")
        pid = head_pid(a.home)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        sub = subprocess.run(
            [a.head_load, "submit", "--head", sock, "--seconds", str(a.seconds),
             "--threads", str(a.threads), "--at-least", str(a.jobs)],
            capture_output=True, text=True, env=env)
        if sub.returncode != 0:
            raise SystemExit(f"head_load submit failed: {sub.stderr}")
        s = json.loads(sub.stdout.strip().splitlines()[-1])
        per = s.pop("per_second")
        first = per[: int(a.seconds)]
        s["head_cpu"] = round((cpu_seconds(pid) - c0) / (time.monotonic() - t0), 3)
        s["first_60s_rate"] = round(sum(first) / max(1, len(first)))
        s["first_60s_slowest_second"] = min(first) if first else 0
        s["first_60s_seconds_under_1000"] = sum(1 for x in first if x < 1000)
        s["first_60s_per_second"] = first
        s["threads"] = a.threads
        result["submit"] = s
        log(f"submit: {s['acknowledged']} acknowledged in {s['seconds']} s ({s['rate']}/s); "
            f"first {len(first)} s: {s['first_60s_rate']}/s, slowest second "
            f"{s['first_60s_slowest_second']}, {s['first_60s_seconds_under_1000']} s under 1,000"
            + "".join(f"; second {i}: {x}" for i, x in enumerate(first) if x < 1000))

        squeue = os.path.join(a.bin, "squeue")
        walls, heads, lines = [], [], 0
        for _ in range(5):
            t, c = time.monotonic(), cpu_seconds(pid)
            out = subprocess.run([squeue], env=env, capture_output=True, text=True, check=True)
            walls.append(time.monotonic() - t)
            heads.append(cpu_seconds(pid) - c)  # the listing, and whatever else the head did
            lines = out.stdout.count("\n") - 1
        result["squeue"] = {"lines": lines, "median_s": round(statistics.median(walls), 3),
                            "max_s": round(max(walls), 3),
                            "each_s": [round(w, 3) for w in walls],
                            "head_cpu_each_s": [round(h, 3) for h in heads]}
        log(f"squeue: {lines} lines, median {statistics.median(walls):.2f} s, "
            f"max {max(walls):.2f} s; each {', '.join(f'{w:.2f}' for w in walls)} s, the head's "
            f"cpu meanwhile {', '.join(f'{h:.2f}' for h in heads)} s")
        if a.dashboard:
            result["dashboard"] = dashboard(a.home, work)
        result["head_cpu_busy_nodes_full_queue"] = round(head_cpu(a.home, 60), 3)
        log(f"head cpu, {a.nodes} nodes busy, queue full: "
            f"{result['head_cpu_busy_nodes_full_queue']:.1%}")
    finally:
        nodes.send_signal(signal.SIGTERM)
        try:
            nodes.wait(timeout=60)
        except subprocess.TimeoutExpired:
            nodes.kill()
        nodes_err.close()

    # 4: kill -9 the head while submissions are acknowledged; every acknowledged id survives.
    acked_file = os.path.join(work, "acked")
    sub = subprocess.Popen(
        [a.head_load, "submit", "--head", "unix:" + os.path.join(a.home, "head.sock"),
         "--seconds", "20", "--threads", str(a.threads), "--acked-file", acked_file],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(5 + random.random() * 5)
    os.kill(head_pid(a.home), signal.SIGKILL)
    sub.communicate(timeout=120)
    up()
    with open(acked_file) as f:
        acked = [int(x) for x in f]
    db = sqlite3.connect(f"file:{os.path.join(a.home, 'state.db')}?mode=ro", uri=True)
    known = {r[0] for r in db.execute("SELECT id FROM jobs WHERE id >= ?", (min(acked),))}
    db.close()
    lost = [i for i in acked if i not in known]
    result["kill"] = {"acknowledged": len(acked), "lost": len(lost)}
    log(f"kill -9 during submissions: {len(acked)} acknowledged, {len(lost)} lost")
    # The head's own consistency checks (the minute sweep) found nothing to repair.
    with open(os.path.join(a.home, "head.log"), errors="replace") as f:
        text = f.read()
    result["sweep_repairs"] = text.count("as it was, not as it is") + text.count(
        "changed without being listed")
    log(f"sweep repairs in head.log: {result['sweep_repairs']}")
    print(json.dumps(result), flush=True)
    return 1 if lost or result["sweep_repairs"] else 0


if __name__ == "__main__":
    sys.exit(main())
