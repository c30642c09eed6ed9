"""racnn.train.provenance: a run folder refuses another configuration; the
stages a restart takes; sources compared by content; stale copies moved
aside; where a stage's net came from."""
import json
import os

import pytest

from racnn.errors import RacnnError
from racnn.rundir import settings as experiment
from racnn.train import provenance


# ------------------------------------------------------------ run folders
def test_run_folder_refuses_another_configuration_once_training_started(tmp_path):
    cfg = experiment.make_config("cars", "alexnet")
    provenance.prepare(str(tmp_path), dict(cfg))
    provenance.prepare(str(tmp_path), dict(cfg, gpu="0"))      # volatile: fine
    version = (tmp_path / "VERSION").read_text()
    assert "racnn" in version
    # nothing trained yet: the folder takes the new configuration
    provenance.prepare(str(tmp_path), dict(cfg, data_root="/elsewhere"))
    assert json.load(open(str(tmp_path / "config.json")))["data_root"] == "/elsewhere"
    (tmp_path / "cnn").mkdir()
    (tmp_path / "cnn" / "train.log").write_text("I1201 ...\n")      # training started
    with pytest.raises(RacnnError, match=r"another configuration \(res: 50 -> 25"):
        provenance.prepare(str(tmp_path), dict(cfg, data_root="/elsewhere", res=25))


# ------------------------------------------ sources, stale copies, restarts
def test_restart_takes_the_stages_that_read_the_restarted_model():
    cfg = experiment.make_config("cars", "tiny")
    plan = experiment.stage_plan(cfg)
    assert plan == ["backbone_hr", "stage1_sr", "cnn", "racnn_g", "racnn_p"]
    assert provenance.restart_set(["stage1_sr"], plan, cfg) == ["stage1_sr", "racnn_p"]
    assert provenance.restart_set(["racnn_g", "cnn"], plan, cfg) == ["racnn_g", "cnn"]
    assert provenance.restart_set(["backbone_hr"], plan, cfg) == [
        "backbone_hr", "cnn", "racnn_g", "racnn_p"]
    with pytest.raises(RacnnError, match=r"--restart racnn_x: not a stage of this run "
                       r"\(its stages: backbone_hr, stage1_sr, cnn, racnn_g, racnn_p\)"):
        provenance.restart_set(["racnn_x"], plan, cfg)
    # the release's g-RACNN starts from stage 1's model: restarting stage 1 restarts it
    release = experiment.make_config("cars", "tiny", mults="release")
    assert provenance.restart_set(["stage1_sr"], experiment.stage_plan(release), release) == [
        "stage1_sr", "racnn_g", "racnn_p"]
    cfg = experiment.make_config("cars", "alexnet", restart="racnn_g, cnn")
    assert cfg["restart"] == ["racnn_g", "cnn"] and "restart" in experiment.VOLATILE


def test_changed_sources_by_content_and_supersede_keeps_generated(tmp_path):
    tv, solver = tmp_path / "tv.prototxt", tmp_path / "solver.prototxt"
    tv.write_text("name: 'a'\n")
    solver.write_text("base_lr: 0.01\n")
    src = {"train_val": str(tv), "solver": str(solver), "deploy": "/not/read"}
    rec = {"source_sha256": provenance.source_hashes(src)}
    assert sorted(rec["source_sha256"]) == ["solver", "train_val"]
    assert provenance.changed_sources(rec, src) == []
    assert provenance.changed_sources({}, src) == []           # older run folders: unknown
    tv.write_text("name: 'a'\n")                               # rewritten, same bytes
    assert provenance.changed_sources(rec, src) == []
    tv.write_text("name: 'b'\n")
    (changed,) = provenance.changed_sources(rec, src)
    assert changed.startswith("%s (sha256 %s.. -> " % (tv, rec["source_sha256"]["train_val"][:12]))
    msg = provenance.stale_message("racnn_g", [changed], "docker/run python3 tools/experiment.py "
                                  "cars alexnet")
    assert msg.endswith("To retrain it with the current file: docker/run python3 "
                        "tools/experiment.py cars alexnet --restart racnn_g")
    stage = tmp_path / "run" / "racnn_g"
    (stage / "generated").mkdir(parents=True)
    (stage / "generated" / "train_val.prototxt").write_text("x")
    (stage / "DONE").write_text("{}")
    old = provenance.supersede(str(stage))
    assert os.listdir(str(stage)) == ["generated"] and os.listdir(old) == ["DONE"]
    assert os.path.dirname(old) == str(tmp_path / "run" / "superseded")


def test_source_note_names_the_file_or_how_to_edit_a_generated_net(tmp_path):
    stage = tmp_path / "run" / "cnn"
    note = provenance.source_note(str(stage / "generated" / "train_val.prototxt"), str(stage))
    assert note.startswith("a net generated for this run (cnn/generated/train_val.prototxt); "
                           "to edit it, write the set once with tools/make_nets.py")
    assert provenance.source_note("/x/mynets/cnn_e2e_paper_train_val.prototxt", str(stage)) == \
        "/x/mynets/cnn_e2e_paper_train_val.prototxt"
