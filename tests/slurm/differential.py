#!/usr/bin/env python3
"""Differential test: the same sbatch scripts and Slurm commands against Debian's Slurm 22.05
(in a box, tests/slurm/slurmbox.py) and against swell (`swell up`, 2 nodes), compared.

For every script of corpus/jobs it runs `sbatch SCRIPT` from a directory of its own on both
clusters, and compares
  - the verdict (accepted or refused) and, when both refuse, the last error line;
  - the names of the files the job left in its directory (job ids normalised);
  - the SLURM* variables the job printed (ids, paths and node names normalised).
corpus/workflows/*/submit.sh are run as `bash submit.sh` (dependencies, arrays after a job),
and corpus/commands.txt are single commands on the idle clusters.

It prints a table and the agreement figures, writes every difference to --results, and exits
  0   when every item of --must-agree agrees (the others are reported, not asserted),
  1   when one of them disagrees (a regression),
  2   when the harness itself failed (a cluster did not start, a command hung),
  77  when it cannot run here (not root, Slurm not installed): ctest shows it as skipped.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import slurmbox  # noqa: E402

NODES, CPUS, MEM_MB = 2, 1, 12000   # swell up --nodes 2 on this 2-cpu machine: 1 cpu a node
COMMAND_TIMEOUT = 60
DRAIN_TIMEOUT = 120
STILL = 5
# Pending reasons of jobs that will not start by themselves.
NEVER = {"DependencyNeverSatisfied", "PartitionConfig", "PartitionNodeLimit", "BeginTime",
         "JobHeldUser", "JobHeldAdmin", "ReqNodeNotAvail", "InvalidQOS", "InvalidAccount"}
# Variables whose value is this run's and not comparable (their presence still is).
VOLATILE = {"SLURM_TASK_PID", "SLURM_WORKING_CLUSTER", "SLURM_JOB_START_TIME",
            "SLURM_JOB_END_TIME", "SLURM_SUBMIT_HOST"}
ENV_LINE = re.compile(r"^(SLURM[A-Z0-9_]*)=(.*)$")
SUBMITTED = re.compile(r"Submitted batch job (\d+)")


def log(msg):
    print(msg, flush=True)


class HarnessError(Exception):
    pass


# ---- the two clusters ----------------------------------------------------------------------

def base_env():
    """A small, identical environment for both sides (no SLURM_*/SWELL_* of the caller). The
    sanitizers' options pass (a TSan build's suppressions for gRPC must reach swell's daemons)."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TSAN_OPTIONS", "ASAN_OPTIONS",
                     "LSAN_OPTIONS", "UBSAN_OPTIONS")}
    keep.update({"USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash"})
    keep.setdefault("HOME", "/root")
    return keep


class Side:
    """One cluster: a name, the environment its commands run with, a root directory."""

    def __init__(self, name, env, root):
        self.name, self.env, self.root = name, env, root
        os.makedirs(root, exist_ok=True)

    def run(self, cmd, cwd, timeout=COMMAND_TIMEOUT):
        try:
            r = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=self.env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{self.name}: `{cmd}` in {cwd} took more than {timeout} s")
        return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}

    def active(self):
        """The active jobs as `id state reason` lines."""
        r = self.run("squeue -h -o '%i %t %r'", self.root)
        return [x.strip() for x in r["out"].splitlines() if x.strip()]

    def jobs_by_dir(self):
        """(own id, array id) of every job still known, by working directory."""
        r = self.run("squeue -t all -h -o '%A|%F|%Z'", self.root)
        by = {}
        for line in r["out"].splitlines():
            parts = line.strip().split("|")
            if len(parts) == 3 and parts[0].isdigit():
                own, arr, wd = parts
                by.setdefault(wd, []).append((own, arr if arr.isdigit() else own))
        return by

    def cancel_all(self):
        self.run("scancel -u root", self.root)


class SwellCluster:
    def __init__(self, bindir, root):
        self.bindir, self.home = bindir, os.path.join(root, "home")
        os.makedirs(root, exist_ok=True)
        self.conf = os.path.join(root, "cluster.toml")
        with open(self.conf, "w") as f:
            f.write(f"[cluster]\nnodes = {NODES}\ncpus_per_node = {CPUS}\n"
                    f"mem_per_node_mb = {MEM_MB}\nkill_wait_s = 1\n")
        self.env = dict(base_env(), SWELL_HOME=self.home,
                        PATH=f"{bindir}:/usr/local/bin:/usr/bin:/bin")
        self.up = False

    def start(self):
        r = subprocess.run([os.path.join(self.bindir, "swell"), "up", "--config", self.conf],
                           env=self.env, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.up = True
        if r.returncode != 0:
            raise HarnessError(f"swell up failed: {r.stderr}")

    def stop(self):
        if not self.up:
            return
        swell = os.path.join(self.bindir, "swell")
        subprocess.run(["bash", "-c", "scancel -u root"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        subprocess.run([swell, "down"], env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)


# ---- normalisation -------------------------------------------------------------------------

def id_map(jobs):
    """Job id -> placeholder for the jobs of one directory, from (own id, array id) pairs:
    the submitted jobs, in order, are {A}, {A2}, ...; array tasks' own ids are {J}."""
    bases = sorted({int(a) for _, a in jobs})
    m = {}
    for own, _ in jobs:
        m[own] = "{J}"
    for i, b in enumerate(bases):
        m[str(b)] = "{A}" if i == 0 else "{A%d}" % (i + 1)
    return m


def sub_ids(text, ids):
    if not ids:
        return text
    pat = re.compile(r"(?<![0-9])(" + "|".join(sorted(map(re.escape, ids), key=len,
                                                          reverse=True)) + r")(?![0-9])")
    return pat.sub(lambda m: ids[m.group(1)], text)


def norm_text(text, side, ids, workdir):
    text = text.replace(workdir, "{dir}").replace(side.root, "{root}")
    text = sub_ids(text, ids)
    return text


def norm_value(var, value, ids, workdir, side):
    if var in VOLATILE:
        return "{volatile}"
    v = norm_text(value, side, ids, workdir)
    v = re.sub(r"^node[0-9]+$", "node{n}", v)
    return v


def parse_env(text):
    env = {}
    for line in text.splitlines():
        m = ENV_LINE.match(line)
        # SLURM_CONF is the harness's (the box's commands need it), exported by sbatch.
        if m and m.group(1) != "SLURM_CONF":
            env[m.group(1)] = m.group(2)
    return env


def last_error(err):
    lines = [l.strip() for l in err.splitlines() if l.strip()]
    errs = [l for l in lines if ": error:" in l or l.startswith("sbatch:") or "fatal" in l]
    return (errs or lines or [""])[-1]


REASONS = [  # (category, pattern), first match wins: why a submission was refused
    ("script", r"look like a batch script|#!"),
    ("option", r"unrecognized option|unknown option|invalid option|unrecognised"),
    ("partition", r"partition"),
    ("gres", r"gres|generic resource|gpu"),
    ("feature", r"feature|constraint"),
    ("node name", r"node name"),
    ("cluster", r"cluster"),
    ("dependency", r"dependency"),
    ("array", r"array"),
    ("time", r"time"),
    ("resources", r"processors|node configuration|node count|cpus|memory|nodes with"),
]


def reason(err):
    text = err.lower()
    for cat, pat in REASONS:
        if re.search(pat, text, re.I):
            return cat
    return "other"


def norm_message(line):
    line = re.sub(r"(?<![0-9])[0-9]{2,}(?![0-9])", "N", line)
    return line


# ---- the runs ------------------------------------------------------------------------------

def list_files(d, skip):
    out = {}
    for base, dirs, files in os.walk(d):
        for f in files:
            p = os.path.join(base, f)
            rel = os.path.relpath(p, d)
            if rel in skip:
                continue
            try:
                with open(p, errors="replace") as fh:
                    out[rel] = fh.read(200000)
            except OSError:
                out[rel] = ""
    return out


def run_commands(sides, corpus, results):
    cmds = [l.strip() for l in open(os.path.join(corpus, "commands.txt"))
            if l.strip() and not l.startswith("#")]
    rows = []
    for i, cmd in enumerate(cmds, start=1):
        row = {"command": cmd}
        for s in sides:
            d = os.path.join(s.root, "commands")
            os.makedirs(d, exist_ok=True)
            r = s.run(cmd, d)
            ids = {m: "{A}" for m in SUBMITTED.findall(r["out"])}
            row[s.name] = {"rc": r["rc"], "out": norm_text(r["out"], s, ids, d),
                           "err": norm_text(r["err"], s, ids, d)}
        a, b = row["slurm"], row["swell"]
        row["agree_rc"] = (a["rc"] == 0) == (b["rc"] == 0)
        row["agree"] = a["rc"] == b["rc"] and a["out"] == b["out"] and \
            norm_message(last_error(a["err"])) == norm_message(last_error(b["err"]))
        rows.append(row)
    results["commands"] = rows
    for s in sides:
        s.cancel_all()


def submit_jobs(sides, corpus, results):
    jobs = sorted(f for f in os.listdir(os.path.join(corpus, "jobs")) if f.endswith(".sh"))
    rows = []
    for name in jobs:
        row = {"name": name[:-3]}
        for s in sides:
            d = os.path.join(s.root, "jobs", name[:-3])
            os.makedirs(os.path.join(d, "data"))
            shutil.copy(os.path.join(corpus, "jobs", name), d)
            r = s.run(f"sbatch {name}", d)
            m = SUBMITTED.search(r["out"])
            row[s.name] = {"rc": r["rc"], "out": r["out"], "err": r["err"], "dir": d,
                           "accepted": r["rc"] == 0 and m is not None,
                           "ids": [m.group(1)] if m else []}
        rows.append(row)
    results["jobs"] = rows


def run_workflows(sides, corpus, results):
    wroot = os.path.join(corpus, "workflows")
    rows = []
    for name in sorted(os.listdir(wroot)):
        row = {"name": name}
        for s in sides:
            d = os.path.join(s.root, "workflows", name)
            shutil.copytree(os.path.join(wroot, name), d)
            r = s.run("bash submit.sh", d)
            ids = SUBMITTED.findall(r["out"]) + re.findall(r"(?m)^(\d+)$", r["out"])
            row[s.name] = {"rc": r["rc"], "out": r["out"], "err": r["err"], "dir": d,
                           "ids": ids}
        rows.append(row)
    results["workflows"] = rows


def wait_drained(sides):
    """Waits until every job has ended, or what is left only waits (nothing running and the
    queues unchanged for STILL seconds: a dependency that is never satisfied, a begin time);
    then cancels what is left and returns it."""
    deadline = time.time() + DRAIN_TIMEOUT
    left, last, since = {}, None, time.time()
    while time.time() < deadline:
        left = {s.name: s.active() for s in sides}
        if not any(left.values()):
            return {}
        lines = [l.split(None, 2) + ["", ""] for v in left.values() for l in v]
        running = any(l[1] in ("R", "CG", "CF") for l in lines)
        stuck = all(l[2].strip("()") in NEVER for l in lines)
        if left != last or running:
            last, since = left, time.time()
        elif time.time() - since >= (STILL if stuck else 6 * STILL):
            break
        time.sleep(0.5)
    for s in sides:
        s.cancel_all()
    time.sleep(2)
    return left


def compare_outputs(row, sides, known, skip_names):
    """Files and environments of one job script or workflow, on both sides. `known`: each
    side's jobs by working directory."""
    per = {}
    for s in sides:
        r = row[s.name]
        files = list_files(r["dir"], skip_names)
        envs = {f: parse_env(t) for f, t in files.items()}
        jobs = [j for wd, js in known[s.name].items()
                if wd == r["dir"] or wd.startswith(r["dir"] + "/") for j in js]
        jobs += [(i, i) for i in r["ids"] if not any(i == o for o, _ in jobs)]
        ids = id_map(jobs)
        r["id_map"] = ids
        nfiles = {}
        for f, t in files.items():
            nf = sub_ids(f, ids)
            env = {k: norm_value(k, v, ids, r["dir"], s) for k, v in envs[f].items()}
            raw = [l for l in t.splitlines() if not ENV_LINE.match(l)]
            other = [norm_text(l, s, ids, r["dir"]) for l in raw]
            nfiles[nf] = {"env": env, "raw_env": envs[f], "other": other, "raw": raw}
        per[s.name] = nfiles
    a, b = per["slurm"], per["swell"]
    out = {"files_slurm": sorted(a), "files_swell": sorted(b),
           "files_agree": sorted(a) == sorted(b), "env_diffs": {}}
    for f in sorted(set(a) & set(b)):
        ea, eb = a[f]["env"], b[f]["env"]
        if not ea and not eb:
            continue
        d = {"missing_in_swell": sorted(set(ea) - set(eb)),
             "extra_in_swell": sorted(set(eb) - set(ea)),
             "different": {k: [ea[k], eb[k]] for k in sorted(set(ea) & set(eb))
                           if ea[k] != eb[k] and a[f]["raw_env"][k] != b[f]["raw_env"][k]}}
        if any(d.values()):
            out["env_diffs"][f] = d
    out["env_compared"] = any(a[f]["env"] or b[f]["env"] for f in set(a) & set(b))
    out["env_agree"] = out["env_compared"] and not out["env_diffs"]
    # Word for word the same agrees, whatever the id normalisation makes of a value that happens
    # to equal a job id on one side (7 x 5 = 35 with job 35).
    out["content"] = {f: [a[f]["other"], b[f]["other"]] if a[f]["raw"] != b[f]["raw"]
                      else [a[f]["raw"], b[f]["raw"]] for f in set(a) & set(b)}
    return out


# ---- the report ----------------------------------------------------------------------------

def verdict(r):
    return "accepted" if r["accepted"] else "refused"


def report(results, out):
    jobs, cmds, wfs = results["jobs"], results["commands"], results["workflows"]
    fig = {}
    w = max(len(r["name"]) for r in jobs)
    out.write(f"{'SCRIPT':<{w}}  {'SLURM':<19}  {'SWELL':<19}  VERDICT  MESSAGE  FILES  ENV\n")
    for r in jobs:
        a, b = r["slurm"], r["swell"]
        both_refused = not a["accepted"] and not b["accepted"]
        cmp_ = r["compare"]
        msg = ("yes" if r["message_agree"] else "no") if both_refused else "-"
        files = ("yes" if cmp_["files_agree"] else "no") if a["accepted"] and b["accepted"] \
            else "-"
        env = "-"
        if cmp_["env_compared"]:
            n = sum(len(d["missing_in_swell"]) + len(d["extra_in_swell"]) + len(d["different"])
                    for d in cmp_["env_diffs"].values())
            env = "yes" if cmp_["env_agree"] else f"no ({n})"
        va = verdict(a) + (f" ({r['reasons'][0]})" if not a["accepted"] else "")
        vb = verdict(b) + (f" ({r['reasons'][1]})" if not b["accepted"] else "")
        out.write(f"{r['name']:<{w}}  {va:<19}  {vb:<19}  "
                  f"{'yes' if r['verdict_agree'] else 'NO':<7}  {msg:<7}  {files:<5}  {env}\n")

    def frac(items, pred):
        items = list(items)
        return sum(1 for x in items if pred(x)), len(items)

    fig["verdicts"] = frac(jobs, lambda r: r["verdict_agree"])
    fig["refusal reasons"] = frac([r for r in jobs if not r["slurm"]["accepted"]
                                   and not r["swell"]["accepted"]], lambda r: r["reason_agree"])
    fig["messages"] = frac([r for r in jobs if not r["slurm"]["accepted"]
                            and not r["swell"]["accepted"]], lambda r: r["message_agree"])
    both = [r for r in jobs if r["slurm"]["accepted"] and r["swell"]["accepted"]]
    fig["files"] = frac(both, lambda r: r["compare"]["files_agree"])
    fig["env"] = frac([r for r in both if r["compare"]["env_compared"]],
                      lambda r: r["compare"]["env_agree"])
    fig["commands (exit status)"] = frac(cmds, lambda r: r["agree_rc"])
    fig["commands (exact)"] = frac(cmds, lambda r: r["agree"])
    fig["workflows"] = frac(wfs, lambda r: r["agree"])

    out.write("\nCOMMAND" + " " * 45 + "SLURM SWELL AGREE\n")
    for r in cmds:
        out.write(f"{r['command'][:51]:<52}  {r['slurm']['rc']:>3}  {r['swell']['rc']:>3}  "
                  f"{'yes' if r['agree'] else ('rc' if r['agree_rc'] else 'NO')}\n")
    out.write("\nWORKFLOW" + " " * 24 + "AGREE\n")
    for r in wfs:
        out.write(f"{r['name']:<32}{'yes' if r['agree'] else 'no: ' + ', '.join(r['why'])}\n")

    # Which variables differ, over every file compared.
    var = {}
    for r in jobs + wfs:
        for d in r.get("compare", {}).get("env_diffs", {}).values():
            for k in d["missing_in_swell"]:
                var.setdefault(k, [0, 0, 0])[0] += 1
            for k in d["extra_in_swell"]:
                var.setdefault(k, [0, 0, 0])[1] += 1
            for k in d["different"]:
                var.setdefault(k, [0, 0, 0])[2] += 1
    if var:
        out.write("\nVARIABLE                        MISSING  EXTRA  DIFFERENT (output files)\n")
        for k in sorted(var):
            m, e, d = var[k]
            out.write(f"{k:<32}{m:>7}  {e:>5}  {d:>9}\n")
    out.write("\nAgreement with Slurm 22.05: " + "; ".join(
        f"{k}: {a}/{n}" for k, (a, n) in fig.items()) + "\n")
    return fig


def details(results, path):
    """Every difference, per script, for whoever fixes them."""
    with open(path, "w") as f:
        for r in results["jobs"]:
            a, b = r["slurm"], r["swell"]
            diffs = []
            if not r["verdict_agree"]:
                diffs.append(f"verdict: slurm {verdict(a)}, swell {verdict(b)}")
            if not a["accepted"] or not b["accepted"]:
                diffs.append(f"slurm said: {a['err'].strip() or a['out'].strip()}")
                diffs.append(f"swell said: {b['err'].strip() or b['out'].strip()}")
            c = r["compare"]
            if a["accepted"] and b["accepted"] and not c["files_agree"]:
                diffs.append(f"files: slurm {c['files_slurm']}, swell {c['files_swell']}")
            for fn, d in c["env_diffs"].items():
                for k in d["missing_in_swell"]:
                    diffs.append(f"{fn}: {k} missing in swell")
                for k in d["extra_in_swell"]:
                    diffs.append(f"{fn}: {k} only in swell")
                for k, (x, y) in d["different"].items():
                    diffs.append(f"{fn}: {k}: slurm {x!r}, swell {y!r}")
            if diffs:
                f.write(f"== {r['name']}\n" + "".join(f"  {d}\n" for d in diffs))
        for r in results["commands"]:
            if not r["agree"]:
                f.write(f"== command: {r['command']}\n")
                for s in ("slurm", "swell"):
                    x = r[s]
                    f.write(f"  {s}: exit {x['rc']}\n")
                    for l in (x["out"] + x["err"]).splitlines()[:12]:
                        f.write(f"    | {l}\n")
        for r in results["workflows"]:
            if not r["agree"]:
                f.write(f"== workflow {r['name']}: {', '.join(r['why'])}\n")
                for s in ("slurm", "swell"):
                    f.write(f"  {s}: exit {r[s]['rc']}, files {r['compare']['files_' + s]}\n")
                    for l in (r[s]["out"] + r[s]["err"]).splitlines()[:8]:
                        f.write(f"    | {l}\n")
        if results.get("left_running"):
            f.write(f"== still active after {DRAIN_TIMEOUT} s (cancelled): "
                    f"{results['left_running']}\n")


def evaluate(results, sides, corpus, known):
    for r in results["jobs"]:
        a, b = r["slurm"], r["swell"]
        r["verdict_agree"] = a["accepted"] == b["accepted"]
        both_refused = not a["accepted"] and not b["accepted"]
        r["message_agree"] = both_refused and (norm_message(last_error(a["err"])) ==
                                               norm_message(last_error(b["err"])))
        r["reasons"] = [reason(a["err"]) if not a["accepted"] else "",
                        reason(b["err"]) if not b["accepted"] else ""]
        r["reason_agree"] = both_refused and r["reasons"][0] == r["reasons"][1]
        r["compare"] = compare_outputs(r, sides, known, {r["name"] + ".sh"})
    for r in results["workflows"]:
        a, b = r["slurm"], r["swell"]
        skip = set(os.listdir(os.path.join(corpus, "workflows", r["name"])))
        r["compare"] = c = compare_outputs(r, sides, known, skip)
        why = []
        if a["rc"] != b["rc"]:
            why.append("exit status")
        if sub_ids(a["out"], a["id_map"]) != sub_ids(b["out"], b["id_map"]):
            why.append("submit output")
        if not c["files_agree"]:
            why.append("files")
        if any(x != y for x, y in c["content"].values()):
            why.append("file contents")
        if c["env_diffs"]:
            why.append("environment")
        r["why"], r["agree"] = why, not why


def check_must_agree(results, path):
    """Items (`verdict NAME`, `reason NAME`, `message NAME`, `files NAME`, `env NAME`, `workflow NAME`,
    `command N`) that must agree: returns the ones that do not."""
    jobs = {r["name"]: r for r in results["jobs"]}
    wfs = {r["name"]: r for r in results["workflows"]}
    bad = []
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        kind, name = line.split(None, 1)
        try:
            if kind == "verdict":
                ok = jobs[name]["verdict_agree"]
            elif kind == "message":
                ok = jobs[name]["message_agree"]
            elif kind == "reason":
                ok = jobs[name]["reason_agree"]
            elif kind == "files":
                ok = jobs[name]["compare"]["files_agree"] and \
                    jobs[name]["slurm"]["accepted"] and jobs[name]["swell"]["accepted"]
            elif kind == "env":
                ok = jobs[name]["compare"]["env_agree"]
            elif kind == "workflow":
                ok = wfs[name]["agree"]
            elif kind == "command":
                ok = results["commands"][int(name) - 1]["agree"]
            elif kind == "command-rc":
                ok = results["commands"][int(name) - 1]["agree_rc"]
            else:
                raise KeyError(kind)
        except (KeyError, IndexError, ValueError):
            bad.append(f"{line} (no such item)")
            continue
        if not ok:
            bad.append(line)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the directory of swell and its links")
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--results", default="slurm-differential.txt",
                    help="where to write every difference")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--must-agree", default=os.path.join(HERE, "must_agree.txt"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("SKIPPED: the Slurm differential test needs root (network namespaces, slurmd "
              "and munged run as root)")
        return 77
    missing = slurmbox.missing_binaries()
    if missing:
        print(f"SKIPPED: Slurm is not installed ({', '.join(missing)}); run scripts/setup")
        return 77
    if not os.access(os.path.join(args.bin, "sbatch"), os.X_OK):
        print(f"harness: no swell sbatch link in {args.bin}")
        return 2

    scratch = tempfile.mkdtemp(prefix="slurm-diff-")
    os.chmod(scratch, 0o755)
    t0 = time.time()
    swell = SwellCluster(os.path.abspath(args.bin), os.path.join(scratch, "swell"))
    box = slurmbox.SlurmBox(nodes=NODES, cpus=CPUS, mem_mb=MEM_MB, cluster="swell")
    results = {}
    try:
        box.start()
        swell.start()
        log(f"clusters up in {time.time() - t0:.1f} s (slurm: {box.dir}, swell: {swell.home})")
        slurm_env = dict(base_env(), SLURM_CONF=box.conf, PATH="/usr/local/bin:/usr/bin:/bin")
        sides = [Side("slurm", slurm_env, os.path.join(scratch, "slurm")),
                 Side("swell", swell.env, os.path.join(scratch, "swell"))]
        run_commands(sides, args.corpus, results)
        submit_jobs(sides, args.corpus, results)
        run_workflows(sides, args.corpus, results)
        log(f"submitted in {time.time() - t0:.1f} s; waiting for the jobs")
        results["left_running"] = wait_drained(sides)
        log(f"jobs done in {time.time() - t0:.1f} s")
        known = {s.name: s.jobs_by_dir() for s in sides}
        evaluate(results, sides, args.corpus, known)
    except (HarnessError, RuntimeError, subprocess.SubprocessError, OSError) as e:
        print(f"harness: {e}")
        return 2
    finally:
        box.close()
        swell.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")

    fig = report(results, sys.stdout)
    details(results, args.results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    print(f"differences: {os.path.abspath(args.results)}  ({time.time() - t0:.0f} s)")
    if os.path.exists(args.must_agree):
        bad = check_must_agree(results, args.must_agree)
        if bad:
            print("REGRESSION: these must agree with Slurm and do not:\n  " + "\n  ".join(bad))
            return 1
        print(f"every item of {os.path.basename(args.must_agree)} agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
