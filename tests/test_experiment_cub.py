"""A real-dataset target in smoke mode: `tools/experiment.py birds tiny
--smoke` on the CUB-200-2011 fixture (official layout, real photos cropped to
their boxes), with a stand-in for ImageNet backbone weights made here, through
stage 1, stage 2 and evaluation."""
import json
import os
import subprocess
import sys

import pytest

import _evalkit as kit

from racnn.rundir.stage import final_model
from racnn.rundir import stage as stage_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def cub_run(shared, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cub")
    weights = kit.standin_weights(tmp / "tiny_imagenet_standin.caffemodel")
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    proc = subprocess.run(
        [sys.executable, "tools/experiment.py", "birds", "tiny", "--smoke",
         "--data-root", os.path.join(shared, "data", "cub_mini"),
         "--backbone-weights", weights], cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return run_folder(proc.stdout), weights, proc.stdout, tmp


def run_folder(stdout):
    """The run folder the driver's summary names (its name carries the settings)."""
    import pathlib
    lines = [l for l in stdout.splitlines() if l.startswith("run folder: ")]
    assert len(lines) == 1, stdout[-2000:]
    return pathlib.Path(lines[0][len("run folder: "):])


def load(path):
    with open(str(path)) as fh:
        return json.load(fh)


@pytest.mark.shared
def test_cub_fixture_runs_both_stages_and_evaluation(cub_run):
    run, weights, out, tmp = cub_run
    cfg = load(run / "config.json")
    assert not (run / "backbone_hr").exists()              # weights were given
    for name in ("stage1_sr", "cnn", "racnn_g", "racnn_p"):
        assert stage_files.read_done(str(run / name)), name
    for name in ("cnn", "racnn_g", "racnn_p"):
        m = load(run / name / "eval" / "metrics.json")
        assert m["num_classes"] == 10                      # classes 1-10 of the fixture
        assert m["num_images"] == cfg["test_limit"] == 24  # the smoke subset
        assert "  %-8s mean class accuracy %6.2f %%" % (name, 100 * m["mean_class_accuracy"]) \
            in out
    manifest = load(cfg["paths"]["train_db"] + "/manifest.json")
    assert manifest["dataset"] == "birds" and manifest["res"] == 50 and manifest["size"] == 72
    assert manifest["kernel"] == "matlab" and manifest["count"] == 48
    assert load(cfg["paths"]["sr_db"] + "/manifest.json")["kind"] == "sr_patches"


@pytest.mark.shared
def test_cub_stage2_initialised_from_the_standin_through_the_audit(cub_run):
    run, weights, _, _ = cub_run
    sr = final_model(str(run / "stage1_sr"))
    for name in ("cnn", "racnn_g", "racnn_p"):
        audit = load(run / name / "init_audit.json")
        src = {(b["layer"], b["index"]): b["source"] for b in audit["blobs"]}
        assert src[("conv1", 0)] == weights and src[("fc6", 0)] == weights
        assert src[("fc7_birds", 0)] == "new"
        assert "fc7_imagenet" in audit["ignored"][weights]
        if name == "racnn_p":
            assert src[("sconv2", 0)] == sr
        elif name == "racnn_g":
            assert src[("sconv2", 0)] == "new"
    text = (run / "racnn_p" / "init_audit.txt").read_text()
    assert "blobs from %s" % sr in text


@pytest.mark.shared
def test_cub_p_racnn_from_the_authors_sr_weights_swapped_to_bgr(cub_run, authors_sr_weights):
    run, weights, _, tmp = cub_run
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    proc = subprocess.run(
        [sys.executable, "tools/experiment.py", "birds", "tiny", "--smoke", "--sr-weights",
         "authors", "--variants", "racnn_p", "--data-root", load(run / "config.json")[
             "data_root"], "--backbone-weights", weights,
         "--set", "authors_sr_weights=%s" % authors_sr_weights], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    other = run_folder(proc.stdout)
    assert other.name.startswith("birds-tiny-r50-e2e-paper-srauthors")
    assert sorted(os.listdir(str(other))) == ["VERSION", "config.json", "experiment.log",
                                              "racnn_p", "report"]   # no stage 1
    audit = load(other / "racnn_p" / "init_audit.json")
    rows = {(b["layer"], b["index"]): b for b in audit["blobs"]}
    assert rows[("sconv1", 0)]["source"] == authors_sr_weights
    assert "RGB->BGR" in rows[("sconv1", 0)]["note"] and "RGB->BGR" in rows[("sconv3", 1)]["note"]
    assert rows[("conv1", 0)]["source"] == weights
    assert load(other / "racnn_p" / "eval" / "metrics.json")["num_images"] == 24


@pytest.mark.shared
def test_cut_down_dataset_with_committed_nets_fails_before_training(shared, tmp_path):
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    root = os.path.join(shared, "data", "cub_mini")
    proc = subprocess.run([sys.executable, "tools/experiment.py", "birds", "alexnet", "--smoke",
                           "--data-root", root, "--backbone-weights", "none"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    assert proc.returncode == 2
    assert "has 10 classes, the committed birds nets in prototxt/alexnet/birds/ have 200 " \
        "outputs" in proc.stderr
    assert "tools/experiment.py my_birds alexnet --format cub --data-root %s" % root \
        in proc.stderr
    assert "then add --nets mynets/" in proc.stderr              # editing its nets
    # the check failed before training: no run folder locks that configuration
    runs = [n for n in os.listdir(str(tmp_path / "runs")) if not n.startswith(".")] \
        if os.path.isdir(str(tmp_path / "runs")) else []
    assert runs == []
