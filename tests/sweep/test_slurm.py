"""racnn.sweep.slurm and racnn.sweep.backend: the sbatch script of a job
array and how its commands enter the environment (a sweep on a real Slurm
cluster: tests/workflows/test_sweep_on_slurm.py)."""
import os
import subprocess

import pytest

from racnn.paths import REPO
from racnn.sweep import backend, grids, plan as plan_mod, slurm


def test_sbatch_script_and_entries(tmp_path):
    runs = plan_mod.expand(grids.grid("table3"))
    plan = {"sweep": "table3", "runs": runs}
    knobs = {"partition": "gpu", "gres": "gpu:1", "time": "2-00:00:00", "cpus_per_task": 8,
             "mem": "32G", "account": "lab"}
    text = slurm.script(plan, str(tmp_path), knobs, ["--qos=long"], backend.prefix("rootfs"), "0")
    lines = text.splitlines()
    for want in ("#SBATCH --job-name=racnn-table3", "#SBATCH --partition=gpu",
                 "#SBATCH --gres=gpu:1", "#SBATCH --time=2-00:00:00",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32G", "#SBATCH --account=lab",
                 "#SBATCH --qos=long",
                 "#SBATCH --output=%s" % os.path.join(str(tmp_path), "slurm", "%A_%a.out")):
        assert want in lines
    assert lines[-1] == ("exec env RACNN_BACKEND=rootfs %s/docker/run python3 tools/sweep.py "
                         "task %s \"$SLURM_ARRAY_TASK_ID\" --slurm-job \"$SLURM_ARRAY_JOB_ID\" "
                         "--gpu 0" % (REPO, tmp_path))
    r = subprocess.run(["bash", "-n"], input=text, universal_newlines=True)
    assert r.returncode == 0
    sif = tmp_path / "racnn.sif"
    with pytest.raises(Exception, match="needs --sif"):
        backend.prefix("apptainer")
    with pytest.raises(Exception, match="no such Apptainer image"):
        backend.prefix("apptainer", str(sif))
    sif.write_bytes(b"")
    assert backend.prefix("apptainer", str(sif))[:3] == ["apptainer", "exec", "--nv"]
