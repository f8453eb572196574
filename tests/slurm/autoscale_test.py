"""`swell autoscale` on Debian's Slurm 22.05 (issue 15; docs/slurm-autoscale.md).

`swell up --config examples/clusters/slurm-netns.toml` in a fresh SWELL_HOME: munged and
Debian's slurmctld with one partition per node type and no nodes, configured by swell, and
`swell autoscale` beside them, which makes dynamic slurmd nodes with the netns provider (each
in its own network namespace and host name) when jobs wait and deletes them once idle. With
`eval "$(swell env)"`, Debian's own commands:

  - no nodes at rest; jobs that name no partition go to the smallest type that fits, a job no
    type fits is refused at submit;
  - 8 jobs get nodes within 2 minutes, run on them and complete; an array and a job that
    depends on it; an MPI program under `srun --mpi=pmix` across 2 dynamic nodes;
    libswell_mr's K-means as srun's ranks, bit for bit the serial reference's centres;
  - once idle, the nodes leave Slurm within 3 minutes; `swell down` leaves no daemon, network
    namespace or bridge.

Root only (network namespaces, slurmd); exits 77 (skipped) otherwise, saying why.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurmbox import missing_binaries  # noqa: E402

PREFIX = "swslurm-"  # examples/clusters/slurm-netns.toml
BRIDGE = "swslurm0"



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
    ap.add_argument("--source", required=True, help="the source tree (examples/clusters)")
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
    cluster = os.path.join(a.source, "examples", "clusters", "slurm-netns.toml")
    work = tempfile.mkdtemp(prefix="swell-autoscale-test-")
    os.chmod(work, 0o755)
    home = os.path.join(work, "home")
    base = dict(os.environ, SWELL_HOME=home)
    up = False
    try:
        r = run([swell, "up", "--config", cluster], base)
        up = True
        log(r.stdout.strip())
        env = dict(base)
        for line in run([swell, "env"], base).stdout.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip('"')
        assert env.get("SLURM_CONF") == os.path.join(home, "slurm", "slurm.conf"), env
        daemons = {n: int(open(p).read()) for n, p in (
            ("autoscale", os.path.join(home, "autoscale.pid")),
            ("slurmctld", os.path.join(home, "slurm", "ctld", "slurmctld.pid")),
            ("munged", os.path.join(home, "slurm", "munge", "munged.pid")))}

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
        # The types that fit, for swell autoscale should a type fail to boot.
        notes = {str(j["job_id"]): j.get("admin_comment") for j in json.loads(
            run(["/usr/bin/squeue", "--json"], env).stdout)["jobs"]}
        assert notes[ids[0]] == "swell:small,large", notes
        assert notes[ids[7]] == "swell:large", notes

        # The 8 jobs get nodes and complete.
        wait_for("dynamic nodes", lambda: slurm_nodes(env), 120)
        log(f"first nodes registered {time.time() - t0:.1f} s after the submits: "
            f"{slurm_nodes(env)}")
        wait_for("8 jobs to complete", lambda: not any(j[0] in ids for j in queue(env)), 120)
        log(f"8 jobs done {time.time() - t0:.1f} s after the submits")
        hosts = []
        for i in range(8):
            with open(f"{out}/job{i}.out") as f:
                hosts.append(f.read().split()[0])
        assert all(h.startswith("small-") for h in hosts[:7]), hosts
        assert hosts[7].startswith("large-"), hosts

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

        # libswell_mr's K-means as srun's ranks on 2 dynamic nodes.
        common = ["--dims", "3", "--k", "5", "--iterations", "6"]
        run([os.path.join(a.bin, "kmeans-serial"), "--generate", "20000", "--data",
             f"{out}/d", "--partitions", "4", "--output", f"{out}/serial.txt", *common], env)
        parts = " ".join(f"{out}/d/part-000{k}.bin" for k in range(4))
        km = sbatch(env, "-N", "2", "-n", "2", "-p", "small", "-o", f"{out}/km.out", "--wrap",
                    f"export SWELL_MR_RENDEZVOUS={out}/rdv; srun {a.bin}/kmeans --output "
                    f"{out}/km.txt --input {parts} {' '.join(common)}; echo kmeans said $?")
        wait_for("K-means", lambda: not any(j[0] == km for j in queue(env)), 180)
        with open(f"{out}/km.out") as f:
            said = f.read()
        assert "kmeans said 0" in said, said
        with open(f"{out}/serial.txt") as f, open(f"{out}/km.txt") as g:
            assert f.read() == g.read(), "K-means centres differ from the serial reference"

        # Idle nodes go: out of Slurm, namespaces deleted.
        t1 = time.time()
        wait_for("the nodes to go", lambda: not slurm_nodes(env) and not our_namespaces(), 180)
        log(f"nodes gone {time.time() - t1:.1f} s after the last job")

        # swell down: no daemon, namespace or bridge left.
        run([swell, "down"], base)
        up = False
        alive = [n for n, pid in daemons.items() if os.path.exists(f"/proc/{pid}")
                 and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]]
        assert not alive, f"still running after swell down: {alive}"
        assert our_namespaces() == [], our_namespaces()
        assert subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode != 0
        assert not os.path.exists(os.path.join(home, "slurm")), os.listdir(home)
        log("PASSED")
        return 0
    except AssertionError as e:
        log(f"FAILED: {e}")
        if up:
            env = dict(base, SLURM_CONF=os.path.join(home, "slurm", "slurm.conf"))
            print(run(["/usr/bin/squeue", "-o", "%i %T %r %P %N"], env, check=False).stdout)
            print(run(["/usr/bin/sinfo", "-N", "-l"], env, check=False).stdout)
            try:
                with open(os.path.join(home, "slurm", "ctld", "slurmctld.log")) as f:
                    print(f.read()[-3000:])
            except OSError:
                pass
        return 1
    finally:
        if up:
            subprocess.run([swell, "down"], env=base, capture_output=True)
        try:
            with open(os.path.join(home, "autoscale.log")) as f:
                print(f.read()[-3000:])
        except OSError:
            pass
        cleanup_network()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
