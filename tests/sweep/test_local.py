"""racnn.sweep.local: the graph's jobs (real SMOKE stages) in dependency
order here; a failed stage skips only the stages that start from it, the
shared stage-1 model is trained once for both runs, the report job runs
last."""
import os

from racnn.datasets import synthetic
from racnn.rundir.results import final_results
from tests.support.commands import data_env, sweep


def test_local_sweep_skips_only_what_depends_on_a_failed_stage(tmp_path):
    """Two SMOKE runs (r = 12, 16) of the CNN and p-RACNN: the first run's
    backbone_hr stage cannot work (its solver.prototxt is garbage, as after
    a full disk), so its CNN and p-RACNN are skipped, naming why; its stage-1
    job still trains the shared stage-1 model, which the second run's
    p-RACNN reuses; the second run finishes; exit status 1."""
    env = data_env(tmp_path)
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    args = ["run", "two", "--dataset", "synthetic", "--backbone", "tiny", "--res", "12,16",
            "--smoke", "--set", "variants=[\"cnn\", \"racnn_p\"]", "--set", "data_format=folder",
            "--set", "data_root=%s" % data]
    first = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r12-e2e-paper-smoke")
    second = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r16-e2e-paper-smoke")
    os.makedirs(os.path.join(first, "backbone_hr"))
    with open(os.path.join(first, "backbone_hr", "solver.prototxt"), "w") as fh:
        fh.write("base_lr: {{ garbage\n")
    r = sweep(env, *args)
    assert r.returncode == 1, r.stdout + r.stderr
    table = r.stdout[r.stdout.index("job    "):].splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in table[1:] if line and
            not line.startswith(" ")}
    a, b = os.path.basename(first), os.path.basename(second)
    assert rows[a + ":backbone_hr"][0] == "failed"
    assert "cannot read as a SolverParameter prototxt" in r.stdout
    for stage in ("cnn", "racnn_p"):
        assert rows["%s:%s" % (a, stage)][:4] == ["skipped", "needs", a + ":backbone_hr,",
                                                    "which"], rows
        assert rows["%s:%s" % (b, stage)][0] == "finished"
    sr = [n for n in rows if n.startswith("sr:")]
    assert len(sr) == 1 and rows[sr[0]][0] == "finished"      # one model for both runs
    assert rows["report"][0] == "finished"
    assert sorted(final_results(second)) == ["backbone_hr", "cnn", "racnn_p"]
    with open(os.path.join(second, "experiment.log")) as fh:
        assert "stage1_sr: reusing the shared stage-1 model %s" % os.path.join(
            env["RACNN_RUNS"], "sr", sr[0][3:]) in fh.read()
    assert os.path.realpath(os.path.join(second, "stage1_sr")) == \
        os.path.realpath(os.path.join(first, "stage1_sr"))
    # the order: every job after the jobs it starts from
    order = [l.split(": ")[0].split("] ")[1] for l in r.stdout.splitlines()
             if l.startswith("[sweep ") and l.endswith(")") and "starting" in l]
    assert order.index(sr[0]) < order.index(b + ":racnn_p")
    assert order.index(b + ":backbone_hr") < order.index(b + ":cnn")
    s = sweep(env, "status", "two")
    assert s.returncode == 0
    states = {l.split()[0]: l.split()[1] for l in s.stdout.splitlines()[2:] if l.strip() and
              not l.startswith(" ")}
    assert states[a + ":backbone_hr"] == "incomplete" and states[b + ":racnn_p"] == "finished"
