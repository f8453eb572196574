"""`swell autoscale` on Debian's Slurm 22.05 (issue 15; docs/slurm-autoscale.md).

A Slurm in a box with no nodes, configured by `swell slurm-config` (a nodeset and partition per
node type, job_submit.lua routing); `swell autoscale` beside it makes dynamic slurmd nodes with
the netns provider (each in its own network namespace and host name) when jobs wait and deletes
them once idle. Checks, as a user of that Slurm sees them with Debian's own commands:

  - no nodes at rest; jobs that name no partition go to the smallest type that fits, a job no
    type fits is refused at submit;
  - 8 jobs get nodes, run on them and complete; an array and a job that depends on it; an MPI
    program under `srun --mpi=pmix` across 2 dynamic nodes;
  - once idle, the nodes leave Slurm and their namespaces are deleted.

Root only (network namespaces, slurmd); exits 77 (skipped) otherwise, saying why.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurmbox import SlurmBox, missing_binaries  # noqa: E402

PREFIX = "swas-"
BRIDGE = "swas0"

CLUSTER = """
[provider]
kind = "netns"
subnet = "{subnet}"
bridge = "{bridge}"
prefix = "{prefix}"

[autoscaler]
policy = "clic"
min_lifetime_s = 3
boot_timeout_s = 60
interval_s = 0.5
max_nodes = 4

[[node_type]]
name = "small"
cpus = 1
memory_mb = 1000
max_nodes = 4

[[node_type]]
name = "large"
cpus = 2
memory_mb = 2000
max_nodes = 2
"""


def log(msg):
    print(f"[autoscale_test] {msg}", flush=True)


def run(argv, env, check=True):
    r = subprocess.run(argv, env=env, text=True, capture_output=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def our_namespaces():
    out = subprocess.run(["ip", "netns", "list"], text=True, capture_output=True).stdout
    return [l.split()[0] for l in out.splitlines() if l.startswith(PREFIX)]


def free_subnet():
    used = subprocess.run(["ip", "-4", "-o", "addr"], text=True, capture_output=True).stdout
    for x in range(1, 250):
        if f" 10.214.{x}." not in used:
            return f"10.214.{x}.0/24"
    raise RuntimeError("no free 10.214.X.0/24")


def wait_for(what, pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def slurm_nodes(env):
    out = run(["/usr/bin/sinfo", "-h", "-N", "-o", "%N %T %P"], env).stdout
    return [l.split() for l in out.splitlines() if l.strip()]


def queue(env):
    out = run(["/usr/bin/squeue", "-h", "-o", "%i %T %P"], env).stdout
    return [l.split() for l in out.splitlines() if l.strip()]


def sbatch(env, *args):
    r = run(["/usr/bin/sbatch", "--parsable", *args], env)
    return r.stdout.strip().split(";")[0]


def cleanup_network():
    for ns in our_namespaces():
        pids = subprocess.run(["ip", "netns", "pids", ns], text=True,
                              capture_output=True).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the directory with swell and swell-daemon")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIPPED: swell autoscale's test needs root (network namespaces, slurmd)")
        return 77
    missing = missing_binaries()
    if missing:
        print(f"SKIPPED: Slurm is not installed ({', '.join(missing)}); run scripts/setup")
        return 77
    if our_namespaces():
        print(f"FAILED: namespaces {PREFIX}* exist already (another run?)")
        return 1

    swell = os.path.join(a.bin, "swell")
    work = tempfile.mkdtemp(prefix="swell-autoscale-test-")
    os.chmod(work, 0o755)
    cluster = os.path.join(work, "cluster.toml")
    with open(cluster, "w") as f:
        f.write(CLUSTER.format(subnet=free_subnet(), bridge=BRIDGE, prefix=PREFIX))
    lua = os.path.join(work, "job_submit.lua")
    conf = run([swell, "slurm-config", "--config", cluster, "--lua", lua], os.environ).stdout
    extra = [l for l in conf.splitlines() if l and not l.startswith("#")]
    daemon = None
    with open(lua) as f:
        files = {"job_submit.lua": f.read()}
    box = SlurmBox(nodes=0, enforce_part_limits="NO", log=log, extra_conf=extra,
                   extra_files=files)
    try:
        box.start()
        env = box.env()
        home = os.path.join(work, "home")
        alog = open(os.path.join(work, "autoscale.log"), "w")
        daemon = subprocess.Popen(
            [swell, "autoscale", "--config", cluster, "--slurm-conf", box.conf,
             "--spool", os.path.join(box.dir, "nodes"), "--home", home],
            stdout=alog, stderr=alog, env=env, start_new_session=True)
        alog.close()

        # At rest: no nodes.
        time.sleep(1.5)
        assert slurm_nodes(env) == [], slurm_nodes(env)
        assert our_namespaces() == []

        # Routing by job_submit.lua; a job no type fits is refused.
        out = os.path.join(work, "out")
        os.makedirs(out)
        os.chmod(out, 0o777)
        big = run(["/usr/bin/sbatch", "-c", "8", "--wrap", "true"], env, check=False)
        assert big.returncode != 0 and "no node type" in big.stderr, big.stderr
        t0 = time.time()
        ids = [sbatch(env, "-o", f"{out}/job{i}.out", "--wrap", "hostname; sleep 2")
               for i in range(7)]
        ids.append(sbatch(env, "-c", "2", "-o", f"{out}/job7.out", "--wrap", "hostname"))
        parts = {j[0]: j[2] for j in queue(env)}
        assert all(parts[i] == "small" for i in ids[:7]), parts
        assert parts[ids[7]] == "large", parts

        # The 8 jobs get nodes and complete.
        wait_for("dynamic nodes", lambda: slurm_nodes(env), 120)
        log(f"first node registered after {time.time() - t0:.1f} s: {slurm_nodes(env)}")
        wait_for("8 jobs to complete", lambda: not any(j[0] in ids for j in queue(env)), 120)
        log(f"8 jobs done after {time.time() - t0:.1f} s")
        hosts = set()
        for i in range(8):
            with open(f"{out}/job{i}.out") as f:
                hosts.add(f.read().split()[0])
        assert all(h.startswith("small-") for h in hosts - {h for h in hosts
                                                           if h.startswith("large-")}), hosts
        assert any(h.startswith("large-") for h in hosts), hosts

        # An array, and a job that runs after it.
        arr = sbatch(env, "--array=1-4", "-o", f"{out}/arr_%a.out", "--wrap",
                     "echo task $SLURM_ARRAY_TASK_ID on $(hostname)")
        dep = sbatch(env, "-d", f"afterok:{arr}", "-o", f"{out}/dep.out", "--wrap",
                     "cat " + " ".join(f"{out}/arr_{k}.out" for k in range(1, 5)))
        wait_for("the array and its dependent", lambda: not any(
            j[0].split("_")[0] in (arr, dep) for j in queue(env)), 180)
        with open(f"{out}/dep.out") as f:
            lines = f.read().splitlines()
        assert sorted(l.split()[1] for l in lines) == ["1", "2", "3", "4"], lines

        # MPI across 2 dynamic nodes.
        mpi = sbatch(env, "-N", "2", "-n", "2", "-p", "small", "-o", f"{out}/mpi.out", "--wrap",
                     "srun --mpi=pmix /usr/bin/python3 -c 'from mpi4py import MPI; "
                     "import socket; c = MPI.COMM_WORLD; "
                     "print(c.Get_rank(), c.Get_size(), socket.gethostname(), "
                     "c.allreduce(c.Get_rank() + 1))'")
        wait_for("the MPI job", lambda: not any(j[0] == mpi for j in queue(env)), 180)
        with open(f"{out}/mpi.out") as f:
            ranks = sorted(l.split() for l in f.read().splitlines() if l.strip())
        assert [r[0] for r in ranks] == ["0", "1"], ranks
        assert all(r[1] == "2" and r[3] == "3" for r in ranks), ranks
        assert ranks[0][2] != ranks[1][2], ranks  # two nodes

        # Idle nodes go: out of Slurm, namespaces deleted.
        t1 = time.time()
        wait_for("the nodes to go", lambda: not slurm_nodes(env) and not our_namespaces(), 180)
        log(f"nodes gone {time.time() - t1:.1f} s after the last job")
        assert daemon.poll() is None, "swell autoscale exited"
        log("PASSED")
        return 0
    except AssertionError as e:
        log(f"FAILED: {e}")
        if box.dir:
            env = box.env()
            print(run(["/usr/bin/squeue", "-o", "%i %T %r %P %N"], env, check=False).stdout)
            print(run(["/usr/bin/sinfo", "-N", "-l"], env, check=False).stdout)
            with open(os.path.join(box.dir, "ctld", "slurmctld.log")) as f:
                print(f.read()[-3000:])
        return 1
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        if daemon is not None:
            with open(os.path.join(work, "autoscale.log")) as f:
                print(f.read()[-4000:])
        box.close()
        cleanup_network()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
