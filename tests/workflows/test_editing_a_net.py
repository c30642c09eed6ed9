"""Editing a net is a first-class workflow (issue 15, items 1, 2 and 4), end
to end on the CUB fixture with the tiny backbone in smoke mode: nets written
once into a folder of the user's (tools/make_nets.py --out), edited there,
trained with --nets; a broken net fixed and rerun in the same run folder; an
edit after a stage finished reported as stale with the command that
retrains it; --restart retraining it; evaluation always of the net trained."""
import json
import os
import re
import subprocess
import sys

import pytest
from racnn.paths import REPO

TRAIN_VAL = "racnn_g_e2e_paper_train_val.prototxt"


def tool(args, env=None):
    return subprocess.run([sys.executable] + args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)


def set_outputs(path, layer, num_output):
    """Edit ``num_output`` of one layer in a prototxt, as a user does in an editor."""
    with open(path) as fh:
        text = fh.read()
    pattern = r'(name: "%s"\n  type: "Convolution".*?num_output: )\d+' % re.escape(layer)
    new, n = re.subn(pattern, r"\g<1>%d" % num_output, text, count=1, flags=re.S)
    assert n == 1, layer
    with open(path, "w") as fh:
        fh.write(new)


def outputs(path, layer):
    from racnn.protoio import read_net
    for l in read_net(path).layer:
        if l.name == layer:
            return l.convolution_param.num_output
    raise AssertionError(layer)


def load(path):
    with open(str(path)) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def edit_env(shared, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edit")
    nets = str(tmp / "mynets")
    made = tool(["tools/make_nets.py", "--backbone", "tiny", "--num-classes", "10", "--name",
                 "my_birds", "--out", nets, "--variants", "racnn_g", "--modes", "e2e",
                 "--mults", "paper"])
    assert made.returncode == 0, made.stdout
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    cmd = ["tools/experiment.py", "my_birds", "tiny", "--format", "cub", "--smoke",
           "--data-root", os.path.join(shared, "data", "cub_mini"), "--backbone-weights",
           "none", "--variants", "racnn_g", "--nets", nets]
    return nets, env, cmd


@pytest.mark.shared
def test_edited_net_is_trained_and_evaluated_broken_net_fixed_then_stale_then_restart(edit_env):
    nets, env, cmd = edit_env
    tv = os.path.join(nets, TRAIN_VAL)
    header = open(tv).read()
    assert "do not edit" not in header and "runs train this file as it is" in header

    # 1. a broken edit: sconv3 must give back 3 channels for the residual sum
    set_outputs(tv, "sconv3", 4)
    broken = tool(cmd, env)
    assert broken.returncode == 2, broken.stdout[-3000:]
    assert "caffe train failed for stage racnn_g" in broken.stdout
    run = [l for l in broken.stdout.splitlines() if "experiment my_birds" in l]
    run_dir = os.path.join(env["RACNN_RUNS"], re.search(r"experiment (\S+):", run[0]).group(1))

    # 2. fixed, and sconv2 edited: rerun in the same folder takes the new file
    set_outputs(tv, "sconv3", 3)
    set_outputs(tv, "sconv2", 16)
    fixed = tool(cmd, env)
    assert fixed.returncode == 0, fixed.stdout[-5000:]
    assert "racnn_g: %s (sha256" % tv in fixed.stdout
    assert "changed since this stage was set up; the stage starts afresh" in fixed.stdout
    assert "racnn_g: trains %s" % tv in fixed.stdout
    stage = os.path.join(run_dir, "racnn_g")
    assert outputs(os.path.join(stage, "train_val.prototxt"), "sconv2") == 16
    assert outputs(os.path.join(stage, "deploy.prototxt"), "sconv2") == 16   # derived
    metrics = load(os.path.join(stage, "eval", "metrics.json"))
    assert metrics["num_images"] == 24
    cfg = load(os.path.join(run_dir, "config.json"))
    rec = cfg["stages"]["racnn_g"]
    assert rec["source"]["train_val"] == tv                   # which file was trained
    from racnn.train.provenance import sha256
    assert rec["source_sha256"]["train_val"] == sha256(tv)
    table = tool(["tools/eval_per_class.py", run_dir], env)    # a run folder: every stage
    assert table.returncode == 0, table.stdout[-3000:]
    assert table.stdout.startswith("racnn_g, iteration 4: 24 images; 10 of 10 classes have "
                                   "test images"), \
        table.stdout[:200]
    superseded = os.listdir(os.path.join(run_dir, "superseded"))
    assert len(superseded) == 1 and superseded[0].startswith("racnn_g-")
    done = load(os.path.join(stage, "DONE"))

    # 3. edited after the stage finished: reported stale, never silently skipped
    set_outputs(tv, "sconv2", 8)
    stale = tool(cmd, env)
    assert stale.returncode == 3, stale.stdout[-3000:]     # not finished: a script stops
    assert "racnn_g is STALE: it finished with an older copy of %s" % tv in stale.stdout
    assert "--restart racnn_g" in stale.stdout and "STALE: see above" in stale.stdout
    assert "is not finished: racnn_g is stale" in stale.stdout
    assert load(os.path.join(stage, "DONE")) == done
    kept = tool(cmd + ["--keep-stale"], env)                 # asked for: the old model stays
    assert kept.returncode == 0 and "NOT finished: racnn_g is stale" in kept.stdout, \
        kept.stdout[-3000:]
    assert outputs(os.path.join(stage, "deploy.prototxt"), "sconv2") == 16

    # 4. the command the message gives retrains it
    again = tool(cmd + ["--restart", "racnn_g"], env)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "racnn_g: restarted (--restart)" in again.stdout and "STALE" not in again.stdout
    assert outputs(os.path.join(stage, "deploy.prototxt"), "sconv2") == 8
    import caffe
    model = os.path.join(stage, load(os.path.join(stage, "DONE"))["final_model"])
    net = caffe.Net(os.path.join(stage, "deploy.prototxt"), model, caffe.TEST)
    assert net.params["sconv2"][0].data.shape[0] == 8
    assert len(os.listdir(os.path.join(run_dir, "superseded"))) == 2


@pytest.mark.shared
def test_nets_folder_checked_before_training(edit_env, tmp_path):
    nets, env, cmd = edit_env
    env = dict(env, RACNN_RUNS=str(tmp_path / "runs"))
    empty = str(tmp_path / "empty")
    os.makedirs(empty)
    missing = tool(cmd[:-1] + [empty], env)
    assert missing.returncode == 2
    assert "%s is missing" % os.path.join(empty, TRAIN_VAL) in missing.stdout
    assert "tools/make_nets.py --backbone tiny --num-classes 10 --name my_birds --out %s" \
        % empty in missing.stdout
    wrong = str(tmp_path / "five")
    made = tool(["tools/make_nets.py", "--backbone", "tiny", "--num-classes", "5", "--name",
                 "my_birds", "--out", wrong, "--variants", "racnn_g", "--modes", "e2e",
                 "--mults", "paper"])
    assert made.returncode == 0
    bad = tool(cmd[:-1] + [wrong], env)
    assert bad.returncode == 2
    assert "%s: layer fc7_my_birds has num_output 5, but the database has 10 classes" % \
        os.path.join(wrong, TRAIN_VAL) in bad.stdout
    assert "Traceback" not in bad.stdout
