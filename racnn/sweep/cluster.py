"""A Slurm cluster on this machine, to try sweeps on (``make slurm-local``,
tools/slurm_local.py) and to test them (tests/workflows/test_sweep_on_slurm.py):
munged with a fresh key, slurmctld, and slurmd for each node, every file
under one folder, SLURM_CONF naming its slurm.conf (no systemd, no cgroups:
proctrack/linuxproc, task/none; ../shared/notes/slurm-probe.md).

* ``nodes=1``: one node, the machine's own host name on 127.0.0.1, free ports.
* ``nodes=N`` (N > 1): the controller and each node in a network and UTS
  namespace of its own, made here (a holder process each), with host names
  ``ctl``, ``node1``, ... and addresses of ``SUBNET`` that exist only inside
  those namespaces: a veth pair from each into a private bridge, which sits
  in a namespace of its own too, so nothing reaches or leaves the machine's
  own network.  The nodes share the file system (one mount namespace) and
  munged's socket, so one munge key serves all.  Client commands (sbatch,
  squeue, the sweep tool) must run in the controller's namespace:
  ``command(argv)`` prefixes them.

Needs root, Debian's slurm-wlm and munge (``install`` gets them with
apt-get), and for several nodes iproute2 and unshare/nsenter.  Pure Python.
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

from ..errors import RacnnError

PACKAGES = ("slurm-wlm", "munge")
#: what several nodes need besides
NETWORK_PACKAGES = ("iproute2",)
#: the private addresses of the namespaces (controller .1, node i .(i+1))
SUBNET = "10.231.7"
BRIDGE = "racnnbr0"


def _sh(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


def install(nodes=1):
    """Install what a cluster of ``nodes`` needs when it is missing; None,
    or the reason it cannot be done here."""
    programs = ["slurmctld", "slurmd", "munged"] + (["ip", "unshare", "nsenter"] if nodes > 1
                                                    else [])
    if all(shutil.which(p) for p in programs):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "%s missing and this is not root with apt-get" % ", ".join(
            p for p in programs if not shutil.which(p))
    packages = list(PACKAGES) + (list(NETWORK_PACKAGES) if nodes > 1 else [])
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + packages
    r = _sh(argv, env=env)
    if r.returncode != 0:
        _sh(["apt-get", "update", "-q"], env=env)
        r = _sh(argv, env=env)
    if r.returncode != 0:
        return "apt-get could not install %s: %s" % (" ".join(packages),
                                                    r.stdout.strip().splitlines()[-1:])
    return None


def namespaces_reason():
    """None when this process can make network and UTS namespaces with a
    veth pair in them, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for p in ("unshare", "nsenter", "ip"):
        if not shutil.which(p):
            return "%s is not installed" % p
    holder = subprocess.Popen(["unshare", "--net", "--uts", "--", "sleep", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.2)
        if holder.poll() is not None:
            return "unshare --net --uts failed: %s" % holder.stderr.read().decode().strip()
        r = _sh(["nsenter", "-t", str(holder.pid), "--net", "--", "ip", "link", "add", "racnnprobe0",
                 "type", "veth", "peer", "name", "racnnprobe1"])
        if r.returncode != 0:
            return "no veth pair in a new network namespace: %s" % r.stdout.strip()
        return None
    finally:
        holder.kill()
        holder.wait()


def _enter(pid):
    """The prefix that runs a command in the network and UTS namespaces of
    process ``pid`` (a namespace's holder)."""
    return ["nsenter", "-t", str(pid), "--net", "--uts", "--"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout, poll=1.0):
    """The first true value of ``predicate()``, polled; a RacnnError naming
    ``what`` after ``timeout`` seconds."""
    end = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > end:
            raise RacnnError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(poll)


class Cluster(object):
    """A cluster of ``nodes`` nodes with its files in ``top`` (made when
    missing), ``cpus`` CPUs each (default: the machine's; several nodes: 1).
    ``start()``, ``stop()``; ``env`` is os.environ with SLURM_CONF."""

    def __init__(self, top, nodes=1, cpus=None):
        self.top = pathlib.Path(top).resolve()
        self.nodes = int(nodes)
        self.cpus = int(cpus or (os.cpu_count() or 1 if self.nodes == 1 else 1))
        self.conf = self.top / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        self.holders = {}          # namespace name -> holder process
        self.names = ["node%d" % (i + 1) for i in range(self.nodes)] if self.nodes > 1 else \
            [socket.gethostname()]

    # ---------------------------------------------------------- running
    def command(self, argv):
        """``argv`` where the controller is reachable: in its namespace when
        the cluster has several nodes."""
        ctl = self._pid(self.top / "ns-ctl.pid")
        if ctl is None:
            return list(argv)
        return _enter(ctl) + list(argv)

    @staticmethod
    def _pid(path):
        try:
            return int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def run(self, argv, **kw):
        """``argv`` run to its end (text, stdout and stderr together) with
        this cluster's SLURM_CONF, where the controller is reachable."""
        kw.setdefault("env", self.env)
        return _sh(self.command(argv), **kw)

    def _in(self, name, argv):
        r = _sh(_enter(self.holders[name].pid) + argv)
        if r.returncode != 0:
            raise RacnnError("%s in namespace %s failed: %s" % (" ".join(argv), name,
                                                                r.stdout.strip()))
        return r

    # ---------------------------------------------------------- start
    def running(self):
        """The pid files of this folder whose process still runs."""
        files = [self.top / "slurmctld.pid", self.top / "munge" / "munged.pid"] + \
            sorted(self.top.glob("slurmd.*.pid")) + sorted(self.top.glob("ns-*.pid"))
        out = []
        for f in files:
            pid = self._pid(f)
            if pid is not None and os.path.exists("/proc/%d" % pid):
                out.append(f)
        return out

    def start(self, timeout=60):
        self.top.mkdir(parents=True, exist_ok=True)
        os.chmod(str(self.top), 0o755)         # munged (the munge user) reaches its files
        live = self.running()
        if live:
            raise RacnnError("a Slurm cluster already runs in %s (%s); stop it first "
                             "(tools/slurm_local.py stop --dir %s)"
                             % (self.top, ", ".join(p.name for p in live), self.top))
        # a fresh cluster each time: the state of an earlier one (another node
        # count, another ClusterName) makes slurmctld refuse to start
        for d in ("state", "spool"):
            shutil.rmtree(str(self.top / d), ignore_errors=True)
        try:
            self._munge()
            if self.nodes > 1:
                self._network()
            self._write_conf()
            self._daemon("ctl", ["slurmctld"])
            for name in self.names:
                self._daemon(name, ["slurmd", "-N", name])
            wait_for(self.idle, "%d node(s) to be idle (logs: %s)" % (self.nodes,
                                                                   self.top / "log"), timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def idle(self):
        r = self.run(["sinfo", "-h", "-N", "-o", "%N %T"])
        states = dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2)
        return r.returncode == 0 and len(states) == self.nodes and \
            all(s in ("idle", "mixed", "allocated") for s in states.values())

    def _munge(self):
        munge = self.top / "munge"
        munge.mkdir(exist_ok=True)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        for p in (munge, key):
            shutil.chown(str(p), "munge", "munge")
        os.chmod(str(key), 0o400)
        os.chmod(str(munge), 0o700)
        self.socket = str(munge / "munge.socket")
        r = _sh(["setpriv", "--reuid", "munge", "--regid", "munge", "--clear-groups",
                 "munged", "--force", "--key-file", str(key), "--socket", self.socket,
                 "--pid-file", str(munge / "munged.pid"), "--log-file", str(munge / "log"),
                 "--seed-file", str(munge / "seed")])
        if r.returncode != 0:
            raise RacnnError("munged did not start: %s" % r.stdout.strip())

    def _holder(self, name, uts=True):
        p = subprocess.Popen(["unshare", "--net"] + (["--uts"] if uts else []) +
                             ["--", "sleep", "infinity"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        wait_for(lambda: os.readlink("/proc/%d/ns/net" % p.pid) !=
                 os.readlink("/proc/self/ns/net") or p.poll() is not None,
                 "namespace %s" % name, 10, poll=0.05)
        if p.poll() is not None:
            raise RacnnError("unshare for namespace %s failed: %s"
                             % (name, p.stderr.read().decode().strip()))
        self.holders[name] = p
        (self.top / ("ns-%s.pid" % name)).write_text("%d\n" % p.pid)

    def _network(self):
        """The bridge's namespace, and one namespace per host (its name, its
        address, loopback up, a veth pair into the bridge)."""
        self._holder("switch", uts=False)
        self._in("switch", ["ip", "link", "add", BRIDGE, "type", "bridge"])
        self._in("switch", ["ip", "link", "set", BRIDGE, "up"])
        for i, name in enumerate(["ctl"] + self.names):
            self._holder(name)
            port = "racnn%d" % i
            self._in("switch", ["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0",
                                "netns", str(self.holders[name].pid)])
            self._in("switch", ["ip", "link", "set", port, "master", BRIDGE, "up"])
            self._in(name, ["hostname", name])
            self._in(name, ["ip", "link", "set", "lo", "up"])
            self._in(name, ["ip", "addr", "add", "%s/24" % self.address(name), "dev", "eth0"])
            self._in(name, ["ip", "link", "set", "eth0", "up"])

    def address(self, name):
        if self.nodes == 1:
            return "127.0.0.1"
        return "%s.%d" % (SUBNET, 1 if name == "ctl" else self.names.index(name) + 2)

    def _write_conf(self):
        for d in ("state", "spool", "log"):
            (self.top / d).mkdir(exist_ok=True)
        several = self.nodes > 1
        ctl = "ctl" if several else self.names[0]
        ports = (6817, 6818) if several else (_free_port(), _free_port())  # (namespaces: free)
        spool = "spool/%n" if several else "spool"
        lines = ["ClusterName=racnn%s" % ("multi" if several else "local"),
                 "SlurmctldHost=%s(%s)" % (ctl, self.address("ctl")),
                 "SlurmctldPort=%d" % ports[0], "SlurmdPort=%d" % ports[1],
                 "SlurmUser=root", "AuthType=auth/munge", "AuthInfo=socket=%s" % self.socket,
                 "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
                 "SchedulerType=sched/backfill", "SelectType=select/cons_tres",
                 "SelectTypeParameters=CR_Core", "ReturnToService=2", "MpiDefault=none",
                 "JobAcctGatherType=jobacct_gather/none",
                 "AccountingStorageType=accounting_storage/none",
                 "StateSaveLocation=%s" % (self.top / "state"),
                 "SlurmdSpoolDir=%s" % (self.top / spool),
                 "SlurmctldPidFile=%s" % (self.top / "slurmctld.pid"),
                 "SlurmdPidFile=%s" % (self.top / "slurmd.%n.pid"),
                 "SlurmctldLogFile=%s" % (self.top / "log" / "slurmctld.log"),
                 "SlurmdLogFile=%s" % (self.top / "log" / "slurmd.%n.log"),
                 "MinJobAge=600", "SchedulerParameters=bf_interval=1,sched_min_interval=100000"]
        for name in self.names:
            lines.append("NodeName=%s NodeAddr=%s CPUs=%d State=UNKNOWN"
                         % (name, self.address(name), self.cpus))
        lines.append("PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP"
                     % ",".join(self.names))
        self.conf.write_text("\n".join(lines) + "\n")

    def _daemon(self, where, argv):
        if self.nodes > 1:
            argv = _enter(self.holders[where].pid) + argv
        if where != "ctl" and self.nodes > 1:
            (self.top / "spool" / where).mkdir(parents=True, exist_ok=True)
        r = _sh(argv, env=self.env)
        if r.returncode != 0:
            # the daemons say why in their log, not on stdout
            log = self.top / "log" / ("slurmctld.log" if where == "ctl" else
                                      "slurmd.%s.log" % where)
            try:
                why = [l for l in log.read_text(errors="replace").splitlines() if l.strip()][-3:]
            except OSError:
                why = []
            raise RacnnError("%s did not start: %s (log: %s)" % (
                " ".join(argv), " ".join([r.stdout.strip()] + why).strip() or "no message",
                log))

    # ----------------------------------------------------------- stop
    def stop(self):
        """Cancel every job, stop the daemons and the namespaces' holders
        this cluster started (by the pid files it wrote, so that another
        process can stop it: tools/slurm_local.py stop); the files stay."""
        daemons = [self.top / "slurmctld.pid"] + sorted(self.top.glob("slurmd.*.pid"))
        if self.conf.is_file() and any(self._pid(p) for p in daemons):
            self.run(["scancel", "--user", "root"])
            try:
                wait_for(lambda: not self.run(["squeue", "-h"]).stdout.strip(),
                         "the cancelled jobs to end", 30)
            except RacnnError:
                pass
        for pidfile in daemons + [self.top / "munge" / "munged.pid"] + \
                sorted(self.top.glob("ns-*.pid")):
            pid = self._pid(pidfile)
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGTERM if "ns-" not in pidfile.name else signal.SIGKILL)
                except OSError:
                    pass
            try:
                pidfile.unlink()
            except OSError:
                pass
        for p in self.holders.values():
            p.wait()
        self.holders.clear()
