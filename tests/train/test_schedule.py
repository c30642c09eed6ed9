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


def test_the_notebooks_stage_2_runs_1m_iterations_with_the_released_step(committed):
    """The release's notebooks loop ``solver.step(1)`` 1,000,000 times: the
    solver's max_iter 700k is never reached, the learning rate drops at 600k
    and stays there (issue 21, item 5).  With stage2_length notebooks stage 2's
    release schedule is those 1M iterations with the step where it was (and,
    at another batch size, the same number of images); with solver, 700k;
    stage 1 keeps its solver's length either way."""
    cfg, src = committed("racnn_g")
    release = dict(cfg, stage2_length="notebooks")
    batch = protoio.train_batch_size(src["train_val"])              # the release's 8
    assert schedule.release_length(cfg, "stage2", src) == 700000
    assert schedule.release_length(release, "stage2", src) == 1000000
    assert schedule.release_length(release, "stage1", src) == 700000     # this solver's own
    for b, steps in ((batch, [600000]), (2 * batch, [300000])):
        n = schedule.stage_max_iter(release, src, b, None, 100, "stage2")
        assert n == 1000000 * batch // b
        msg = schedule.scaled_solver(src["solver"], n, reference=schedule.release_length(
            release, "stage2", src))
        assert (msg.max_iter, list(msg.stepvalue)) == (n, steps)
    assert schedule.stage_max_iter(cfg, src, batch, None, 100, "stage2") == 700000
    short = {"max_iter": 700000, "batch_size": batch}
    assert schedule.schedule_shortfall(release, "stage2", src, short)["release_max_iter"] == \
        1000000                       # the solver's 700k is short of the notebooks' length
    assert schedule.schedule_shortfall(cfg, "stage2", src, short) is None
