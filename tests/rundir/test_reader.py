"""racnn.rundir.reader: run and stage folders as records."""
import pytest

from racnn.errors import RacnnError
from racnn.paths import REPO
from racnn.rundir import reader
from racnn.rundir import settings as experiment
from racnn.train import provenance


def test_read_run_finds_the_stages_in_training_order(tmp_path):
    cfg = experiment.make_config("cars", "alexnet")
    provenance.prepare(str(tmp_path), dict(cfg))
    for name in ("racnn_p", "cnn", "stage1_sr", "racnn_g"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "solver.prototxt").write_text('net: "train_val.prototxt"\n')
        if name != "stage1_sr":
            (tmp_path / name / "deploy.prototxt").write_text("")
    run = reader.read_run(str(tmp_path))
    assert [s.name for s in run.stages] == ["stage1_sr", "cnn", "racnn_g", "racnn_p"]
    assert reader.final_stage(run).name == "racnn_p"
    assert reader.eval_dir(run) == str(tmp_path / "racnn_p" / "eval")
    single = reader.read_run(str(tmp_path / "cnn"))
    assert [s.name for s in single.stages] == ["cnn"] and single.config["res"] == 50
    with pytest.raises(RacnnError, match="not a run folder"):
        reader.read_run(REPO)
