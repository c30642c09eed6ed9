"""racnn.rundir.verdict, the one rule for "finished" and "comparable with the
paper", on real run folders (tiny nets trained by `caffe train`, evaluated by
tools/eval_per_class.py) whose provenance says what a full run's says, and
on copies of them with one thing wrong each: the report must list each copy
among the other runs with its reason, never in a paper cell."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support import evalkit as kit
from racnn.rundir import sr_model, verdict
from racnn.rundir.settings import make_config

NETS = {v: ("alexnet", "birds", v, "frozen", "paper") for v in ("cnn", "racnn_p")}
BIRDS = dict(dataset="birds", backbone="alexnet", res=50, mode="frozen", mults="paper",
             sr_weights="pretrain", variants=["cnn", "racnn_p"],
             stages={"cnn": {"batch_size": 4, "images": 24},
                     "racnn_p": {"batch_size": 4, "images": 24}})


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdict")
    run = kit.make_run(root, "birds-alexnet-r50-frozen-paper", BIRDS, stages=("cnn", "racnn_p"))
    r = subprocess.run([sys.executable, "tools/eval_per_class.py", run, "--quiet"],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    return kit.claim_full_run(run, NETS)


def _copy(full_run, tmp_path, name, change):
    run = str(tmp_path / name)
    shutil.copytree(full_run, run)
    with open(os.path.join(run, "config.json")) as fh:
        config = json.load(fh)
    change(run, config)
    with open(os.path.join(run, "config.json"), "w") as fh:
        json.dump(config, fh)
    return run


def _edited(run, config):                       # trained from an edited committed net
    config["stages"]["racnn_p"]["source_sha256"]["train_val"] = "0" * 64


def _retrained_stage1(run, config):              # stage 1 trained again after p-RACNN
    done = os.path.join(run, "stage1_sr", "DONE")
    with open(done) as fh:
        d = json.load(fh)
    d["finished"] = "2026-12-02T00:00:00"
    with open(done, "w") as fh:
        json.dump(d, fh)


def _upscaled(run, config):                      # 64-px photos stored at 227
    path = os.path.join(config["paths"]["train_db"], "manifest.json")
    path = path.replace(os.path.dirname(os.path.dirname(path)), run)
    config["paths"]["train_db"] = os.path.dirname(path)
    with open(path) as fh:
        m = json.load(fh)
    m.update(source_sides=[64, 64], source_upscaled=m["count"])
    with open(path, "w") as fh:
        json.dump(m, fh)


def _cut(run, config):                           # a subset of the official split
    path = os.path.join(run, "claimed_test_db", "manifest.json")
    config["paths"]["test_db"] = os.path.dirname(path)
    with open(path) as fh:
        m = json.load(fh)
    m["count"] = 24
    with open(path, "w") as fh:
        json.dump(m, fh)


def test_the_full_run_is_finished_and_comparable(full_run):
    assert verdict.run_finished(full_run).ok, verdict.run_finished(full_run).reasons
    assert verdict.folder_reasons(full_run, "racnn_p") == []
    assert verdict.folder_reasons(full_run, "cnn") == []


@pytest.mark.parametrize("name, change, stage, reason", [
    ("edited", _edited, "racnn_p",
     "racnn_p trained an edited prototxt/alexnet/birds/racnn_p_frozen_paper_train_val.prototxt"),
    ("edited", _edited, "racnn_p",
     "racnn_p is stale: prototxt/alexnet/birds/racnn_p_frozen_paper_train_val.prototxt "
     "(edited since the stage copied it)"),
    ("stale", _retrained_stage1, "racnn_p",
     "racnn_p is stale: stage1_sr was trained again after it"),
    ("upscaled", _upscaled, "cnn", "% of its source images were upscaled more than 2x"),
    ("cut", _cut, "cnn", "holds 24 of the 5794 images of the official test split"),
])
def test_a_run_with_one_thing_wrong_is_listed_apart_with_its_reason(full_run, tmp_path, name,
                                                                      change, stage, reason):
    run = _copy(full_run, tmp_path, "birds-alexnet-r50-frozen-paper-" + name, change)
    reasons = verdict.folder_reasons(run, stage)
    assert any(reason in r for r in reasons), reasons
    out = str(tmp_path / "report")
    r = subprocess.run([sys.executable, "tools/report.py", run, "--out", out],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "results.csv")) as fh:
        rows = list(csv.DictReader(fh))
    mine = [x for x in rows if x["run"] == run and x["variant"] == stage]
    assert [x["table"] for x in mine] == ["other"], mine
    assert reason in mine[0]["not_placed"]
    assert reason in open(os.path.join(out, "report.md")).read()


def test_a_stale_stage_makes_the_run_not_finished(full_run, tmp_path):
    run = _copy(full_run, tmp_path, "stale", _retrained_stage1)
    v = verdict.run_finished(run)
    assert not v.ok and v.reasons == ["racnn_p is stale: stage1_sr was trained again after it"]


def test_a_run_whose_shared_stage1_model_changed_is_not_finished(full_run, tmp_path):
    """Stage 1 as a shared model (<runs>/sr/..., linked as stage1_sr): the
    run is finished while the model is the one it recorded; a model trained
    again (another sha256, its record rewritten) makes it stale; a model cut
    short (its record not matching) is not usable."""
    run = str(tmp_path / "runs" / "birds-alexnet-r50-frozen-paper")
    shutil.copytree(full_run, run)
    cfg = make_config("birds", "alexnet", mode="frozen")
    shared = sr_model.folder(run, cfg)
    os.makedirs(os.path.dirname(shared))
    shutil.move(os.path.join(run, "stage1_sr"), shared)
    os.symlink(os.path.relpath(shared, run), os.path.join(run, "stage1_sr"))
    sr_model.write_record(shared, cfg, {}, run)
    with open(os.path.join(run, "config.json")) as fh:
        config = json.load(fh)
    config["stages"].setdefault("stage1_sr", {})["shared_model"] = sr_model.used_entry(shared, cfg)
    with open(os.path.join(run, "config.json"), "w") as fh:
        json.dump(config, fh)
    assert verdict.run_finished(run).ok
    model = sr_model.used_entry(shared, cfg)["path"]
    with open(model, "ab") as fh:
        fh.write(b"\0")                             # trained again: other bytes ...
    sr_model.write_record(shared, cfg, {}, "another run")      # ... recorded as final
    v = verdict.run_finished(run)
    assert not v.ok and "stage1_sr is stale: the shared stage-1 model %s was trained again " \
        "since this run used it" % shared in v.reasons[0], v.reasons
    with open(model, "r+b") as fh:
        fh.truncate(100)                            # cut short: not what its record says
    v = verdict.run_finished(run)
    assert not v.ok and v.reasons[0].startswith(
        "stage1_sr: the shared stage-1 model is not usable: %s: sha256" % model), v.reasons


def test_another_configuration_is_not_finished_for_the_one_asked(full_run):
    wanted = dict(json.load(open(os.path.join(full_run, "config.json"))), data_root="/other")
    v = verdict.run_finished(full_run, wanted)
    assert not v.ok and v.reasons[0].startswith(
        "made with another configuration (data_root: None -> '/other'")


def test_a_folder_without_training_locks_no_configuration(tmp_path):
    assert not verdict.trained_anything(str(tmp_path / "missing"))
    (tmp_path / "cnn").mkdir()
    assert not verdict.trained_anything(str(tmp_path))
    (tmp_path / "cnn" / "train.log").write_text("")
    assert verdict.trained_anything(str(tmp_path))
