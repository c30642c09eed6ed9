#!/usr/bin/env python3
"""A Slurm cluster on this machine, to try the sweeps on (racnn.sweep.cluster;
the tests start theirs with the same code).

  slurm_local.py start [--dir runs/slurm-local] [--nodes 1]
  slurm_local.py status [--dir ...]
  slurm_local.py stop  [--dir ...]

start prints the SLURM_CONF to use; with one node (the default) the client
commands reach it directly:

  docker/run env SLURM_CONF=$PWD/runs/slurm-local/slurm.conf make sweep SWEEP=demo SCHEDULER=slurm

With --nodes N > 1 the controller and each node run in network and UTS
namespaces of their own (private addresses, host names ctl, node1, ...):
run the client commands in the controller's, as the printed line says.
Needs root and Debian's slurm-wlm and munge (installed with apt-get when
missing; iproute2 too for several nodes): inside the environment, `make
slurm-local` runs it there.
"""
import os
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.errors import RacnnError, cli_main
from racnn.paths import RUNS_DIR
from racnn.sweep import cluster


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("command", choices=("start", "status", "stop"))
    p.add_argument("--dir", default=os.path.join(RUNS_DIR, "slurm-local"),
                   help="the cluster's files (default: %(default)s)")
    p.add_argument("--nodes", type=int, default=1, help="compute nodes (default: 1)")
    p.add_argument("--cpus", type=int, help="CPUs per node (default: the machine's; several "
                   "nodes: 1)")
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    c = cluster.Cluster(args.dir, nodes=args.nodes, cpus=args.cpus)
    if args.command == "stop":
        c.stop()
        print("stopped the cluster of %s" % c.top)
        return 0
    if args.command == "status":
        if not c.conf.is_file():
            raise RacnnError("no cluster in %s (slurm_local.py start)" % c.top)
        r = c.run(["sinfo", "-N"])
        print(r.stdout.rstrip())
        return r.returncode
    reason = cluster.install(args.nodes) or (cluster.namespaces_reason() if args.nodes > 1
                                            else None)
    if reason:
        raise RacnnError("cannot start a Slurm cluster here: %s" % reason)
    c.start()
    print("a Slurm cluster of %d node(s) (%s) runs; its files: %s" % (
        args.nodes, ", ".join(c.names), c.top))
    # Slurm's client commands are inside the environment (docker/run), and with
    # several nodes the controller is reachable from its namespace only
    prefix = " ".join(["docker/run"] + c.command([]))
    print("use: %s env SLURM_CONF=%s make sweep SWEEP=demo SCHEDULER=slurm" % (prefix, c.conf))
    print("stop: python3 tools/slurm_local.py stop --dir %s" % c.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
