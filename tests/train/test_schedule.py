"""racnn.train.schedule: the stage's solver copy keeps the committed settings
and scales the release's schedule."""
import pytest

from racnn import protoio
from racnn.train import schedule


def test_solver_copy_keeps_the_committed_settings_and_scales_the_schedule(tmp_path, committed):
    cfg, src = committed()
    committed = protoio.read_solver(src["solver"])
    msg = schedule.scaled_solver(src["solver"], 7000, test_iter=25, snapshots=10, tests=5,
                                  seed=3, stage_dir=str(tmp_path / "racnn_p"))
    assert msg.max_iter == 7000 and list(msg.stepvalue) == [6000]      # 600k of 700k
    assert (msg.base_lr, msg.momentum, msg.weight_decay, msg.gamma, msg.lr_policy) == (
        committed.base_lr, committed.momentum, committed.weight_decay, committed.gamma,
        committed.lr_policy)
    assert msg.net == "train_val.prototxt" and msg.snapshot_prefix == "snapshots/racnn_p"
    assert (msg.snapshot, msg.test_interval, list(msg.test_iter)) == (700, 1400, [25])
    assert msg.random_seed == 3
    # a person's edit of the committed solver is what gets trained
    edited = tmp_path / "edited_solver.prototxt"
    edited.write_text(open(src["solver"]).read().replace("base_lr: 1e-06", "base_lr: 3e-05"))
    assert schedule.scaled_solver(str(edited), 10).base_lr == pytest.approx(3e-5)
