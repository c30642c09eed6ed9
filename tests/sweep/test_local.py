"""racnn.sweep.local: real SMOKE experiments one after another, past a
failing one; a second call skips the finished run."""
import json
import os

from racnn.datasets import synthetic
from racnn.rundir.results import final_results
from tests.support.commands import data_env, sweep


def test_local_sweep_continues_past_a_failed_run(tmp_path):
    """Two SMOKE runs, one of which cannot work (r = 80 above the stored 72):
    the other still runs, the table names both and their logs, exit 1; a
    second call skips the finished run."""
    env = data_env(tmp_path)
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    args = ["run", "two", "--dataset", "synthetic", "--backbone", "tiny", "--res", "12,80",
            "--smoke", "--set", "variants=[\"cnn\"]", "--set", "data_format=folder",
            "--set", "data_root=%s" % data]
    r = sweep(env, *args)
    assert r.returncode == 1, r.stdout + r.stderr
    ok = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r12-e2e-paper-smoke")
    bad = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r80-e2e-paper-smoke")
    table = r.stdout[r.stdout.index("#    run"):].splitlines()
    assert table[1].split() == ["0", os.path.basename(ok), "finished", ok + ".sweep.log"]
    assert table[2].split()[:4] == ["1", os.path.basename(bad), "failed", bad + ".sweep.log"]
    assert "resolution must be 1..size (72), got 80" in table[3]
    assert "cannot prepare: resolution must be 1..size (72), got 80" in r.stdout
    assert "cnn" in final_results(ok)            # the final model evaluated
    with open(os.path.join(ok, "config.json")) as fh:
        assert "results" not in json.load(fh)      # results live in <stage>/eval only
    r = sweep(env, *args)
    assert r.returncode == 1
    assert "[sweep 1/2] %s: finished, skipped" % os.path.basename(ok) in r.stdout
    r = sweep(env, "status", "two")
    assert r.returncode == 0
    states = [l.split()[2] for l in r.stdout.splitlines()[2:4]]
    assert states == ["finished", "not"]             # not started: its data check failed
    assert not os.path.exists(bad)                   # ... before any run folder existed
