"""Resumable stages (racnn.train.caffe_train) with the real `caffe train`: a stage
interrupted mid-way continues from its snapshot without running an iteration
twice, a hard-killed one from its newest complete snapshot, and a finished
stage is not run again."""
import os
import re
import signal
import subprocess
import sys
import time

import lmdb
import numpy as np
import pytest

import caffe
from caffe.proto import caffe_pb2

from racnn.train import caffe_train as stages
from racnn.rundir import stage as stage_files
from racnn.rundir.layout import DONE
from racnn.paths import REPO
from racnn.rundir.stage import solverstates

MAX_ITER = 200
SNAPSHOT = 20

NET = """name: "resume"
layer {{ name: "data" type: "Data" top: "data" top: "label" include {{ phase: TRAIN }}
  data_param {{ source: "{db}" batch_size: 32 backend: LMDB }}
  transform_param {{ scale: 0.00390625 }} }}
layer {{ name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param {{ num_output: 32 kernel_size: 5 pad: 2 weight_filler {{ type: "xavier" }} }} }}
layer {{ name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1"
  inner_product_param {{ num_output: 2 weight_filler {{ type: "xavier" }} }} }}
layer {{ name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }}
"""

SOLVER = """net: "train_val.prototxt"
base_lr: 0.001
momentum: 0.9
lr_policy: "fixed"
display: 1
max_iter: {max_iter}
snapshot: {snapshot}
snapshot_prefix: "snapshots/{name}"
solver_mode: CPU
random_seed: 1
"""

# run_stage in its own process, as the driver does (Ctrl-C -> exit 130, RacnnError -> 2)
RUNNER = """import sys
sys.path.insert(0, %r)
from racnn import errors
from racnn.train import caffe_train as stages
errors.cli_main(lambda: stages.run_stage(sys.argv[1]))()
""" % REPO


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("resume") / "db")
    rng = np.random.RandomState(0)
    env = lmdb.open(path, map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i in range(128):
            img = rng.randint(0, 255, size=(3, 32, 32)).astype(np.uint8)
            txn.put(b"%08d" % i, caffe.io.array_to_datum(img, i % 2).SerializeToString())
    env.close()
    return path


def make_stage(root, db, name="stage", max_iter=MAX_ITER):
    d = os.path.join(str(root), name)
    os.makedirs(d)
    with open(os.path.join(d, "train_val.prototxt"), "w") as fh:
        fh.write(NET.format(db=db))
    with open(os.path.join(d, "solver.prototxt"), "w") as fh:
        fh.write(SOLVER.format(max_iter=max_iter, snapshot=SNAPSHOT, name=name))
    return d


def start(stage_dir):
    return subprocess.Popen([sys.executable, "-c", RUNNER, stage_dir], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)


def wait_for(path, proc, timeout=120):
    t0 = time.time()
    while not os.path.isfile(path):
        assert proc.poll() is None, "the stage ended before %s appeared:\n%s" % (
            path, proc.stdout.read())
        assert time.time() - t0 < timeout, "no %s after %d s" % (path, timeout)
        time.sleep(0.02)


def caffe_child(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as fh:
        kids = [int(x) for x in fh.read().split()]
    assert kids, "the driver has no caffe child"
    return kids[0]


def logged_iterations(text):
    """Training iterations Caffe logged (display: 1 logs every one)."""
    return [int(m) for m in re.findall(r"\] Iteration (\d+) \(.*\), loss = ", text)]


def read(path):
    with open(path) as fh:
        return fh.read()


def test_interrupted_stage_resumes_without_repeating_an_iteration(db, tmp_path):
    d = make_stage(tmp_path, db)
    proc = start(d)
    wait_for(os.path.join(d, "snapshots", "stage_iter_%d.solverstate" % SNAPSHOT), proc)
    proc.send_signal(signal.SIGINT)               # Ctrl-C to the driver only
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, out
    assert stage_files.read_done(d) is None            # not finished, no DONE marker
    state = stage_files.newest_solverstate(d)
    assert state is not None and SNAPSHOT <= state[0] < MAX_ITER, (state, out)
    stopped_at = state[0]
    first = read(os.path.join(d, "train.log"))
    assert max(logged_iterations(first)) == stopped_at - 1   # Caffe snapshot the current one

    final = stages.run_stage(d)
    log = read(os.path.join(d, "train.log"))
    assert "Resuming from snapshots/stage_iter_%d.solverstate" % stopped_at in log
    assert "resuming from iteration %d" % stopped_at in log
    iters = logged_iterations(log)
    assert sorted(iters) == list(range(MAX_ITER)), "an iteration ran twice or was skipped"
    assert final == os.path.join(d, "snapshots", "stage_iter_%d.caffemodel" % MAX_ITER)
    done = stage_files.read_done(d)
    assert done["iteration"] == MAX_ITER and done["final_model"] == final


def test_hard_killed_stage_resumes_from_newest_complete_snapshot(db, tmp_path):
    d = make_stage(tmp_path, db)
    proc = start(d)
    wait_for(os.path.join(d, "snapshots", "stage_iter_%d.solverstate" % (2 * SNAPSHOT)), proc)
    os.kill(caffe_child(proc.pid), signal.SIGKILL)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2 and "caffe train failed for stage stage" in out, out
    newest = stage_files.newest_solverstate(d)[0]
    assert newest >= 2 * SNAPSHOT
    # a snapshot cut short by the kill is skipped: truncate the newest one
    path = os.path.join(d, "snapshots", "stage_iter_%d.solverstate" % newest)
    with open(path, "r+b") as fh:
        fh.truncate(max(1, os.path.getsize(path) // 2))
    restored = stage_files.newest_solverstate(d)[0]
    assert restored < newest and restored % SNAPSHOT == 0

    before = len(read(os.path.join(d, "train.log")))
    stages.run_stage(d)
    second = read(os.path.join(d, "train.log"))[before:]
    assert "Resuming from snapshots/stage_iter_%d.solverstate" % restored in second
    iters = logged_iterations(second)
    assert min(iters) == restored and max(iters) == MAX_ITER - 1   # nothing earlier re-ran
    assert stage_files.read_done(d)["iteration"] == MAX_ITER


def test_finished_stage_is_not_run_again(db, tmp_path, capsys):
    d = make_stage(tmp_path, db, max_iter=2 * SNAPSHOT)
    final = stages.run_stage(d)
    log = read(os.path.join(d, "train.log"))
    mtime = os.path.getmtime(final)
    assert stages.run_stage(d) == final
    assert read(os.path.join(d, "train.log")) == log          # no caffe run at all
    assert os.path.getmtime(final) == mtime
    assert "finished before" in capsys.readouterr().out
    # without the DONE marker the stage is not finished; the final snapshot is
    # recognised and only the marker is written, no iteration runs
    os.unlink(os.path.join(d, DONE))
    assert stages.run_stage(d) == final
    assert logged_iterations(read(os.path.join(d, "train.log"))) == logged_iterations(log)
    # only the two newest solverstates are kept; every caffemodel stays
    assert [it for it, _ in solverstates(d)] == [2 * SNAPSHOT, SNAPSHOT]


def test_diverging_stage_stops_with_a_clear_message(db, tmp_path):
    d = make_stage(tmp_path, db, max_iter=30)
    solver = os.path.join(d, "solver.prototxt")
    with open(solver) as fh:
        text = fh.read().replace("base_lr: 0.001", "base_lr: 1e6")
    with open(solver, "w") as fh:
        fh.write(text)
    from racnn.errors import RacnnError
    with pytest.raises(RacnnError, match="diverged.*NaN/inf.*base_lr"):
        stages.run_stage(d)
    assert stage_files.read_done(d) is None


def test_solverstate_check_reads_caffes_own_file(db, tmp_path):
    d = make_stage(tmp_path, db, max_iter=SNAPSHOT)
    stages.run_stage(d)
    it, path = stage_files.newest_solverstate(d)
    state = caffe_pb2.SolverState()
    with open(path, "rb") as fh:
        state.ParseFromString(fh.read())
    assert it == state.iter == SNAPSHOT
