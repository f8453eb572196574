"""Debian's Slurm 22.05 in a box, for differential tests (root only).

munged with its own key and socket, slurmctld on this host, and one slurmd per network
namespace, each with its own host name (node1, node2, ...) and address on a bridge that the box
creates. Everything lives in a temporary directory; `close()` (or leaving the `with` block)
stops every daemon the box started, by pid, kills what is left in its namespaces and removes
the namespaces, the bridge and the directory, also after a failure.

    with SlurmBox(nodes=2, cpus=1, mem_mb=12000) as box:
        subprocess.run(["sbatch", "--wrap", "hostname"], env=box.env())

Settings follow ../shared notes "Slurm 22.05 in a box": SlurmdSpoolDir and TmpFS per node,
proctrack/linuxproc, task/none, MailProg=/bin/true, sched_interval=1, config_overrides.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SLURM_BINARIES = ("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged",
                  "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/bin/scontrol")


def missing_binaries():
    """The Slurm and munge programs that are not installed (scripts/setup installs them)."""
    return [b for b in SLURM_BINARIES if not os.access(b, os.X_OK)]


def _run(argv, check=True, **kw):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_subnet():
    """A 10.201.X.0/24 that no interface of this host uses yet."""
    used = _run(["ip", "-4", "-o", "addr"]).stdout
    start = os.getpid() % 250
    for i in range(250):
        x = (start + i) % 250 + 1
        if f" 10.201.{x}." not in used:
            return f"10.201.{x}"
    raise RuntimeError("no free 10.201.X.0/24 subnet")


class SlurmBox:
    def __init__(self, nodes=2, cpus=1, mem_mb=12000, partition="batch", cluster="swellbox",
                 enforce_part_limits="ALL", log=None):
        self.nodes = [f"node{i}" for i in range(1, nodes + 1)]
        self.cpus, self.mem_mb, self.partition, self.cluster = cpus, mem_mb, partition, cluster
        # ALL: a job that no node of its partition can ever run is refused at submit, as swell
        # does (Slurm's default, NO, queues it for ever with reason PartitionConfig).
        self.enforce_part_limits = enforce_part_limits
        self.log = log or (lambda msg: None)
        self.tag = f"sbx{os.getpid() % 100000}"
        self.dir = None
        self.procs = []          # (name, Popen) of the daemons, in start order
        self.netns = []          # namespace names created
        self.links = []          # host-side links created (bridge last)
        self.closed = False

    # ---- set up -------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="slurmbox-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "slurm.conf")
        self._network()
        self._munge()
        self._write_conf()
        self._slurmctld()
        for i, n in enumerate(self.nodes):
            self._slurmd(i, n)
        self.wait_idle()

    def _network(self):
        net = _free_subnet()
        self.ctld_addr = f"{net}.1"
        self.node_addr = {n: f"{net}.{i + 2}" for i, n in enumerate(self.nodes)}
        br = f"{self.tag}b"
        _run(["ip", "link", "add", br, "type", "bridge"])
        self.links.append(br)
        _run(["ip", "addr", "add", f"{self.ctld_addr}/24", "dev", br])
        _run(["ip", "link", "set", br, "up"])
        for i, n in enumerate(self.nodes, start=1):
            ns, host, peer = f"{self.tag}n{i}", f"{self.tag}h{i}", f"{self.tag}p{i}"
            _run(["ip", "netns", "add", ns])
            self.netns.append(ns)
            _run(["ip", "link", "add", host, "type", "veth", "peer", "name", peer])
            self.links.insert(0, host)
            _run(["ip", "link", "set", host, "master", br, "up"])
            _run(["ip", "link", "set", peer, "netns", ns])
            inside = ["ip", "-n", ns]
            _run(inside + ["link", "set", "lo", "up"])
            _run(inside + ["addr", "add", f"{self.node_addr[n]}/24", "dev", peer])
            _run(inside + ["link", "set", peer, "up"])

    def _munge(self):
        d = os.path.join(self.dir, "munge")
        os.makedirs(d, mode=0o700)
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(d, "munge.socket")
        self._spawn("munged", ["/usr/sbin/munged", "--foreground", "--force",
                               f"--key-file={key}", f"--socket={self.munge_socket}",
                               f"--pid-file={d}/munged.pid", f"--log-file={d}/munged.log",
                               f"--seed-file={d}/munged.seed"])
        self._wait(lambda: os.path.exists(self.munge_socket), 10, "munged's socket")

    def _write_conf(self):
        d = self.dir
        os.makedirs(f"{d}/ctld", exist_ok=True)
        for n in self.nodes:
            for sub in ("spool", "tmp"):
                os.makedirs(f"{d}/nodes/{n}/{sub}", exist_ok=True)
        self.ctld_port, self.slurmd_port = _free_port(), _free_port()
        host = socket.gethostname().split(".")[0]
        lines = [
            f"ClusterName={self.cluster}",
            f"SlurmctldHost={host}({self.ctld_addr})",
            "SlurmUser=root", "SlurmdUser=root",
            f"SlurmctldPort={self.ctld_port}", f"SlurmdPort={self.slurmd_port}",
            "AuthType=auth/munge", "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={d}/ctld",
            f"SlurmctldPidFile={d}/ctld/slurmctld.pid",
            f"SlurmctldLogFile={d}/ctld/slurmctld.log",
            f"SlurmdSpoolDir={d}/nodes/%n/spool",
            f"SlurmdPidFile={d}/nodes/%n/slurmd.pid",
            f"SlurmdLogFile={d}/nodes/%n/slurmd.log",
            f"TmpFS={d}/nodes/%n/tmp",
            "SlurmdParameters=config_overrides",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none", "MpiDefault=none", "SwitchType=switch/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
            "MailProg=/bin/true", "SchedulerParameters=sched_interval=1",
            f"EnforcePartLimits={self.enforce_part_limits}", "ReturnToService=2", "KillWait=1", "InactiveLimit=0", "MinJobAge=300",
            "SlurmctldDebug=info", "SlurmdDebug=info",
            f"PlugStackConfig={d}/plugstack.conf",
        ]
        for n in self.nodes:
            lines.append(f"NodeName={n} NodeAddr={self.node_addr[n]} NodeHostname={n} "
                         f"CPUs={self.cpus} RealMemory={self.mem_mb} State=UNKNOWN")
        lines.append(f"PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE "
                     "State=UP")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        open(f"{d}/plugstack.conf", "w").close()

    def _slurmctld(self):
        self._spawn("slurmctld", ["/usr/sbin/slurmctld", "-D", "-c", "-f", self.conf])
        self._wait(lambda: _run(["/usr/bin/scontrol", "ping"], check=False,
                                env=self.env()).stdout.find("UP") >= 0, 20, "slurmctld")

    def _slurmd(self, i, name):
        ns = self.netns[i]
        # nsenter (not `ip netns exec`, which remounts /sys), then a UTS namespace for the
        # node's own host name; each exec keeps the pid, so the Popen is slurmd itself.
        cmd = ["nsenter", f"--net=/run/netns/{ns}", "unshare", "--uts", "sh", "-c",
               f"hostname {name} && exec /usr/sbin/slurmd -D -N {name} -f {self.conf}"]
        self._spawn(f"slurmd {name}", cmd)

    def _spawn(self, name, argv):
        logf = open(os.path.join(self.dir, name.replace(" ", "-") + ".out"), "w")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                             env=self.env(), start_new_session=True)
        logf.close()
        self.procs.append((name, p))
        self.log(f"slurmbox: {name} pid {p.pid}")
        return p

    def _wait(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}; see {self.dir}")
            if pred():
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}; see {self.dir}")

    def wait_idle(self, timeout=30):
        def idle():
            out = _run(["/usr/bin/sinfo", "-h", "-N", "-o", "%N %t"], check=False,
                       env=self.env()).stdout.split("\n")
            states = dict(l.split() for l in out if l.strip())
            return all(states.get(n) == "idle" for n in self.nodes)
        self._wait(idle, timeout, "idle nodes")

    # ---- use ----------------------------------------------------------------------------

    def env(self, base=None):
        """The environment for Slurm's commands: `base` (default os.environ) with SLURM_CONF."""
        e = dict(os.environ if base is None else base)
        e["SLURM_CONF"] = self.conf if self.dir else ""
        return e

    def active_jobs(self):
        out = _run(["/usr/bin/squeue", "-h", "-o", "%i"], check=False, env=self.env()).stdout
        return [l for l in out.split() if l]

    def wait_drained(self, timeout):
        """Waits until no job is pending or running; returns whether that happened."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.active_jobs():
                return True
            time.sleep(0.25)
        return False

    # ---- tear down ----------------------------------------------------------------------

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self.dir and any(n == "slurmctld" and p.poll() is None for n, p in self.procs):
            _run(["/usr/bin/scancel", "--full", "-u", "root"], check=False, env=self.env())
        # Daemons in reverse order: slurmd's, slurmctld, munged.
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 5
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # What slurmd started (slurmstepd and job processes) lives in the box's namespaces.
        for ns in self.netns:
            for _ in range(3):
                pids = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                time.sleep(0.1)
            _run(["ip", "netns", "del", ns], check=False)
        for link in self.links:
            _run(["ip", "link", "del", link], check=False)
        if self.dir and not os.environ.get("SLURMBOX_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    import sys
    with SlurmBox(log=print) as box:
        print("up:", box.dir)
        for cmd in sys.argv[1:]:
            r = subprocess.run(cmd, shell=True, env=box.env(), text=True)
