"""racnn.pipeline's front ends: `make <dataset>-<backbone>` runs
tools/experiment.py with the Makefile's variables as its options; one stage
of a run alone (--only-stage), beside the drivers of its other stages."""
import os
import subprocess
import sys

from racnn import locks
from racnn.datasets import synthetic
from racnn.paths import REPO
from racnn.rundir import layout
from racnn.rundir.reader import load_config
from racnn.rundir.verdict import run_finished
from tests.support.commands import data_env, make_n, python


def test_make_experiment_variables_for_weights_nets_and_restart():
    out = make_n("birds-alexnet", "BACKBONE_WEIGHTS=none", "NETS=mynets/", "RESTART=racnn_g")
    assert "tools/experiment.py birds alexnet" in out
    assert "--set backbone_weights=none --set nets=mynets/ --restart racnn_g" in \
        " ".join(out.split())


def test_stages_of_one_run_train_at_once_and_a_second_driver_of_one_refuses(tmp_path):
    """tools/experiment.py --only-stage: a stage whose input stage has not
    finished is refused; while the test holds stage cnn's lock a driver of
    that stage, and a driver of the whole run, refuse naming the holder;
    then cnn and racnn_g train at the same time in one run folder, each
    writes its own entries of config.json, and the last one writes the
    run's report."""
    env = data_env(tmp_path)
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    args = ["tools/experiment.py", "synthetic", "tiny", "--smoke", "--res", "12", "--variants",
            "cnn,racnn_g", "--set", "data_format=folder", "--set", "data_root=%s" % data]
    run = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r12-e2e-paper-smoke")
    r = python(*args + ["--only-stage", "cnn"], env=env)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == (
        "experiment.py: error: stage cnn starts from the final model of stage backbone_hr, "
        "which has not finished (%s)" % os.path.join(run, "backbone_hr")), r.stderr
    r = python(*args + ["--only-stage", "bogus"], env=env)
    assert r.returncode == 2 and "--only-stage bogus: not a stage of this run (its stages: " \
        "backbone_hr, cnn, racnn_g)" in r.stderr
    r = python(*args + ["--only-stage", "backbone_hr"], env=env)
    assert r.returncode == 0, r.stderr
    lock = layout.lock_file(run, "cnn")
    with locks.hold(lock, "the test"):
        for extra in (["--only-stage", "cnn"], []):
            r = python(*args + extra, env=env)
            assert r.returncode == 2
            assert "error: stage cnn of run folder %s is in use by pid %d on " % (
                run, os.getpid()) in r.stderr, r.stderr
    both = [subprocess.Popen([sys.executable] + args + ["--only-stage", s], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True) for s in ("cnn", "racnn_g")]
    outs = [p.communicate(timeout=300)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], outs
    config = load_config(run)
    assert sorted(config["stages"]) == ["backbone_hr", "cnn", "racnn_g"]
    assert all(config["stages"][s]["max_iter"] == 4 for s in config["stages"])
    assert run_finished(run).ok
    assert os.path.isfile(os.path.join(run, "report", "report.md"))
    assert config["report"] == os.path.join(run, "report")
    with open(os.path.join(run, "experiment.log")) as fh:
        log = fh.read()
    assert "stage cnn (of backbone_hr, cnn, racnn_g)" in log and "stage racnn_g of %s: " \
        "finished" % run in log
