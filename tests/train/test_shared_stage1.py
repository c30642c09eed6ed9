"""racnn.train.shared_stage1: stage 1 trained once for every run with the
same stage-1 settings (real SMOKE stage-1 trainings of two runs that differ
only in the classifiers' resolution): two drivers that need it at once
train it once; a shared model whose files are corrupt is never used, and a
run whose model is not the one it used is not finished
(tests/rundir/test_verdict.py has that rule)."""
import json
import os
import subprocess
import sys
import time

from racnn import locks
from racnn.datasets import synthetic
from racnn.paths import REPO
from racnn.rundir import sr_model
from racnn.rundir.reader import load_config
from racnn.rundir.verdict import stage_finished
from tests.support.commands import data_env, python


def _args(data, res):
    """tools/experiment.py and its arguments for the run at ``res``."""
    return ["tools/experiment.py", "synthetic", "tiny", "--smoke", "--res", str(res),
            "--variants", "racnn_p", "--set", "data_format=folder", "--set",
            "data_root=%s" % data]


def _start(env, data, res, out):
    """tools/experiment.py --only-stage stage1_sr of the run at ``res``, its
    output into the file ``out``."""
    argv = [sys.executable] + _args(data, res) + ["--only-stage", "stage1_sr"]
    with open(out, "w") as fh:
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)


def _text(path):
    with open(path) as fh:
        return fh.read()


def _wait_for(predicate, what, timeout=120):
    end = time.time() + timeout
    while not predicate():
        assert time.time() < end, "timed out waiting for %s" % what
        time.sleep(0.2)


def test_one_stage1_model_for_two_runs_and_a_corrupt_one_is_never_used(tmp_path):
    env = data_env(tmp_path)
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    runs = {res: os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r%d-e2e-paper-smoke" % res)
            for res in (12, 16)}
    sr_root = os.path.join(env["RACNN_RUNS"], "sr")
    # both drivers start while the test holds the (one) model's lock: both
    # wait, then one trains it and the other reuses it
    os.makedirs(sr_root)
    cfg = json.loads(python(*_args(data, 12) + ["--dry-run"], env=env,
                            check=True).stdout.split("\nstages:")[0])
    folder = sr_model.folder(runs[12], cfg)
    lock = locks.lock_path_beside(folder)
    logs = {res: str(tmp_path / ("r%d.out" % res)) for res in runs}
    with locks.hold(lock, "shared stage-1 model (held by the test)"):
        procs = {res: _start(env, data, res, logs[res]) for res in runs}
        for res in runs:
            _wait_for(lambda: "waiting for shared stage-1 model" in _text(logs[res]),
                      "run r%d to wait for the model" % res)
        assert not os.path.exists(os.path.join(folder, "DONE"))
    outs = {}
    for res, p in procs.items():
        assert p.wait(timeout=300) == 0, _text(logs[res])
        outs[res] = _text(logs[res])
    assert all("waiting for shared stage-1 model %s" % folder in o for o in outs.values())
    trained = [res for res, o in outs.items() if "is final; runs with the same" in o]
    reused = [res for res, o in outs.items() if "reusing the shared stage-1 model %s" % folder
              in o]
    assert len(trained) == 1 and len(reused) == 1 and trained != reused, outs
    name = os.path.basename(folder)
    assert sorted(os.listdir(sr_root)) == sorted([name, "." + name + ".lock"])   # one model
    entries = {}
    for res, run in runs.items():
        assert os.path.realpath(os.path.join(run, "stage1_sr")) == os.path.realpath(folder)
        entries[res] = load_config(run)["stages"]["stage1_sr"]["shared_model"]
        assert stage_finished(run, "stage1_sr").ok
    assert entries[12] == entries[16]
    assert entries[12]["sr_images"] is None and "training images of synthetic" in \
        entries[12]["images_from"]
    # the model cut short (a full disk, a copy): never used, trained again
    model = entries[12]["path"]
    with open(model, "r+b") as fh:
        fh.truncate(os.path.getsize(model) // 2)
    assert not stage_finished(runs[12], "stage1_sr").ok
    again = _start(env, data, 16, str(tmp_path / "again.out"))
    assert again.wait(timeout=300) == 0, _text(str(tmp_path / "again.out"))
    out = _text(str(tmp_path / "again.out"))
    assert "the shared stage-1 model %s is not used: %s: sha256" % (folder, model) in out
    assert "(incomplete or corrupt); its files are in %s" % os.path.join(
        sr_root, "superseded") in out
    assert "is final; runs with the same" in out
    assert sr_model.problems(folder) == []
    assert stage_finished(runs[16], "stage1_sr").ok
    # seeded: the model trained again is the one both runs used, bit for bit
    assert sr_model.read_record(folder)["model_sha256"] == entries[12]["sha256"]
    assert stage_finished(runs[12], "stage1_sr").ok
