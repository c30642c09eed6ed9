"""How a sweep's commands enter the Caffe environment (``--entry``): the
sweep tool itself may run outside it, on a cluster's login node beside
``sbatch``.

  auto      docker/run (inside the environment it runs the command directly;
            outside it picks Docker or the rootfs)
  docker    docker/run with RACNN_BACKEND=docker (the racnn-caffe image)
  rootfs    docker/run with RACNN_BACKEND=rootfs (the debootstrap rootfs)
  apptainer apptainer exec --nv with a .sif image (--sif), the repository bound
  none      the command as it is (already inside the environment)
"""
import os

from ..errors import RacnnError
from ..paths import REPO

ENTRIES = ("auto", "docker", "rootfs", "apptainer", "none")


def prefix(entry, sif=None, variant=None):
    """The argument list put before a command run from the repository root."""
    run = os.path.join(REPO, "docker", "run")
    env = ["env"] + (["RACNN_VARIANT=%s" % variant] if variant else [])
    if entry == "auto":
        return (env if variant else []) + [run]
    if entry in ("docker", "rootfs"):
        return env + ["RACNN_BACKEND=%s" % entry, run]
    if entry == "apptainer":
        if not sif:
            raise RacnnError("--entry apptainer needs --sif IMAGE.sif (apptainer build racnn.sif "
                             "docker-daemon://racnn-caffe-gpu:latest)")
        if not os.path.isfile(sif):
            raise RacnnError("--sif %s: no such Apptainer image" % sif)
        binds = [REPO] + [p for p in (os.environ.get("RACNN_DATA"), os.environ.get("RACNN_RUNS"))
                          if p]
        return ["apptainer", "exec", "--nv", "--bind", ",".join(binds), "--pwd", REPO,
                os.path.abspath(sif)]
    if entry == "none":
        return []
    raise RacnnError("unknown --entry %r; valid: %s" % (entry, ", ".join(ENTRIES)))
