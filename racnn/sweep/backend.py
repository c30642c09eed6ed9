"""How a sweep's commands enter the Caffe environment: its backend
(``--backend``, as docker/run's RACNN_BACKEND; ``--entry`` is its old
spelling).  The sweep tool itself may run outside the environment, on a
cluster's login node beside ``sbatch``.

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

#: docker/run picks docker or rootfs itself (auto) or is told (RACNN_BACKEND)
BACKENDS = ("auto", "docker", "rootfs", "apptainer", "none")


def prefix(backend, sif=None, env=None):
    """The argument list put before a command run from the repository root;
    ``env``: docker/run's RACNN_ENV (cpu, gpu: which Caffe build)."""
    run = os.path.join(REPO, "docker", "run")
    setenv = ["env"] + (["RACNN_ENV=%s" % env] if env else [])
    if backend == "auto":
        return (setenv if env else []) + [run]
    if backend in ("docker", "rootfs"):
        return setenv + ["RACNN_BACKEND=%s" % backend, run]
    if backend == "apptainer":
        if not sif:
            raise RacnnError("--backend apptainer needs --sif IMAGE.sif (apptainer build "
                             "racnn.sif docker-daemon://racnn-caffe-gpu:latest)")
        if not os.path.isfile(sif):
            raise RacnnError("--sif %s: no such Apptainer image" % sif)
        binds = [REPO] + [p for p in (os.environ.get("RACNN_DATA"), os.environ.get("RACNN_RUNS"))
                          if p]
        return ["apptainer", "exec", "--nv", "--bind", ",".join(binds), "--pwd", REPO,
                os.path.abspath(sif)]
    if backend == "none":
        return []
    raise RacnnError("unknown --backend %r; valid: %s" % (backend, ", ".join(BACKENDS)))
