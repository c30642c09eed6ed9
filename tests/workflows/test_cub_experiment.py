"""A real-dataset target in smoke mode: `tools/experiment.py birds tiny
--smoke` on the CUB-200-2011 fixture (official layout, real photos cropped to
their boxes), with a stand-in for ImageNet backbone weights made here, through
stage 1, stage 2 and evaluation (the run: the session's ``cub_run`` fixture,
tests/workflows/conftest.py), and p-RACNN from the authors' SR weights."""
import os

import pytest

from racnn.rundir.stage import final_model
from racnn.rundir import stage as stage_files
from tests.support.workflows import experiment_smoke, load, run_folder


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
    out = experiment_smoke(tmp, [
        "birds", "tiny", "--smoke", "--sr-weights", "authors", "--variants", "racnn_p",
        "--data-root", load(run / "config.json")["data_root"], "--backbone-weights", weights,
        "--set", "authors_sr_weights=%s" % authors_sr_weights])
    other = run_folder(out)
    assert other.name.startswith("birds-tiny-r50-e2e-paper-srauthors")
    assert sorted(os.listdir(str(other))) == ["VERSION", "config.json", "experiment.log",
                                              "racnn_p", "report"]   # no stage 1
    audit = load(other / "racnn_p" / "init_audit.json")
    rows = {(b["layer"], b["index"]): b for b in audit["blobs"]}
    assert rows[("sconv1", 0)]["source"] == authors_sr_weights
    assert "RGB->BGR" in rows[("sconv1", 0)]["note"] and "RGB->BGR" in rows[("sconv3", 1)]["note"]
    assert rows[("conv1", 0)]["source"] == weights
    assert load(other / "racnn_p" / "eval" / "metrics.json")["num_images"] == 24
