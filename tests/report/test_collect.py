"""racnn.report.collect: a result is of the full schedule only when every
stage it depends on is (racnn.rundir.verdict.short_stages): a short stage 1
marks p-RACNN's cell, not the CNN's; a short HR stage marks
Staged-Training's."""
import json
import os

from tests.support import evalkit as kit
from racnn.report.collect import collect
from racnn.report.write import write_report


def _short(run, stage):
    path = os.path.join(run, "config.json")
    with open(path) as fh:
        config = json.load(fh)
    config["stages"][stage]["short_schedule"] = {"max_iter": 10, "release_max_iter": 20,
                                                 "base_lr": 2e-9}
    with open(path, "w") as fh:
        json.dump(config, fh)


def test_a_short_stage_1_marks_the_p_racnn_cell(tmp_path):
    run = kit.finished_run(tmp_path / "runs", {"cnn": 44.0, "racnn_g": 46.0, "racnn_p": 50.0},
                           dataset="birds", backbone="alexnet", mode="frozen")
    _short(run, "stage1_sr")
    by = {r["variant"]: r for r in collect([run])}
    assert by["racnn_p"]["short_schedule"] and by["racnn_p"]["short_stages"] == ["stage1_sr"]
    assert not by["cnn"]["short_schedule"] and not by["racnn_g"]["short_schedule"]
    text = open(write_report([run], str(tmp_path / "report"))[0][0]).read()
    assert "| p-RACNN AlexNet | 47.90 | - | - | 51.23 | 50.00 (short) (SR: own training " \
        "images x500) |" in text
    assert "| AlexNet | 43.75 | - | - | 44.99 | 44.00 |" in text
    assert "| short (stage1_sr) |" in text            # the schedule section names the stage


def test_a_short_hr_stage_marks_staged_training_and_release_g_reads_stage_1(tmp_path):
    run = kit.finished_run(tmp_path / "runs", {"cnn": 50.0, "staged": 55.0},
                           dataset="cars", backbone="alexnet")
    _short(run, "staged_hr")
    by = {r["variant"]: r for r in collect([run])}
    assert by["staged"]["short_stages"] == ["staged_hr"] and not by["cnn"]["short_schedule"]
    # the release's g-RACNN starts from stage 1: a short stage 1 marks it too
    run = kit.finished_run(tmp_path / "release", {"cnn": 44.0, "racnn_g": 46.0},
                           dataset="birds", backbone="alexnet", mode="frozen", mults="release")
    _short(run, "stage1_sr")
    by = {r["variant"]: r for r in collect([run])}
    assert by["racnn_g"]["short_stages"] == ["stage1_sr"] and by["racnn_g"]["sr_start"] == \
        "pretrained"
