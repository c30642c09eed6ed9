"""racnn.sweep.cost: what a sweep costs before it is submitted, per job and
in total, with the critical path; from `make timing`'s measurement, a GPU
run-check's Table I, or the paper's Table I."""
import json
import math
import os

from racnn import paper, protoio, vocab
from racnn.nets import layout
from tests.support.commands import data_env, python, sweep


def _cost(env, *args):
    r = sweep(env, "plan", *args + ("--cost", "--json"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _longest(jobs):
    """The critical path, computed here from the jobs' dependencies."""
    finish = {}
    for j in jobs:                      # (dependencies first)
        finish[j["name"]] = (j["hours"] or 0) + max([finish[d] for d in j["depends_on"]] or [0])
    return max(finish.values())


def test_table2_cost_from_the_papers_table_i(tmp_path):
    env = data_env(tmp_path)
    r = sweep(env, "plan", "table2", "--cost")
    assert r.returncode == 0, r.stderr
    assert "GPU-hours; critical path" in r.stdout and "--time" in r.stdout
    assert "the paper's Table I (one GTX 980) / 1" in r.stdout
    cost = _cost(env, "table2", "--speedup", "2")
    jobs = {j["name"]: j for j in cost["jobs"]}
    assert len(jobs) == 31
    for j in cost["jobs"]:
        assert set(j) >= {"name", "stage", "run", "depends_on", "gpu_hours"}
        assert j["gpu_hours"] is not None and all(d in jobs for d in j["depends_on"])
    assert math.isclose(cost["total_gpu_hours"], sum(j["gpu_hours"] for j in cost["jobs"]))
    assert math.isclose(cost["critical_path_hours"], _longest(cost["jobs"]))
    assert cost["critical_path_hours"] < cost["one_task_per_run_hours"]
    # iterations: the release's schedule, as Caffe reads the committed solvers
    stage1 = [j for j in cost["jobs"] if j["stage"] == "stage1_sr"][0]
    assert stage1["iterations"] == protoio.read_solver(layout.sr_solver_path("paper")).max_iter
    cnn = jobs["cars-alexnet-r50-frozen-paper:cnn"]
    assert cnn["iterations"] == protoio.read_solver(layout.solver_path(
        "alexnet", "cars", "cnn", "frozen", "paper")).max_iter
    # seconds per iteration: Table I's seconds per epoch / iterations per epoch / speed-up
    per_epoch = [s / math.ceil(vocab.dataset_spec(d).train_count / 8.0)
                 for d, s in paper.TABLE_I[("alexnet", False)].items()]
    assert math.isclose(cnn["seconds_per_iteration"], sum(per_epoch) / len(per_epoch) / 2)
    assert math.isclose(cnn["hours"], cnn["iterations"] * cnn["seconds_per_iteration"] / 3600)
    h, m, _ = cnn["time"].split("-")[1].split(":")
    days = int(cnn["time"].split("-")[0])
    assert (days * 24 + int(h)) * 60 + int(m) >= cnn["hours"] * 60 * 1.5


def test_cost_from_make_timing_and_from_a_gpu_run_check(tmp_path):
    """`make timing`'s file (tools/time_nets.py, really run) gives every
    job's seconds per iteration, scaled to the job's batch; a run-check's
    verdict.json (its Table I) too; an unreadable timing file is one line."""
    env = data_env(tmp_path)
    timing = str(tmp_path / "timing")
    r = python("tools/time_nets.py", "--backbones", "tiny", "--iterations", "1", "--batch-size",
               "4", "--out", timing, env=env)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(timing, "timing.json")) as fh:
        timed = json.load(fh)
    ms = {t.get("stage") or t["racnn"]: t["forward_backward_ms"] for t in timed}
    grid = ("mine", "--dataset", "synthetic", "--backbone", "tiny", "--smoke", "--set",
            "data_format=folder", "--set", "data_root=%s" % tmp_path)
    cost = _cost(env, *grid + ("--timing", os.path.join(timing, "timing.json")))
    assert "make timing" in cost["timing"]["source"]
    jobs = {j["stage"]: j for j in cost["jobs"]}
    # smoke: 4 iterations of batch 8 (cnn) and of 16 patch pairs (stage 1)
    assert math.isclose(jobs["cnn"]["seconds_per_iteration"], ms[False] / 1000 * 8 / 4)
    assert math.isclose(jobs["racnn_p"]["seconds_per_iteration"], ms[True] / 1000 * 8 / 4)
    assert math.isclose(jobs["stage1_sr"]["seconds_per_iteration"],
                        ms["stage1_sr"] / 1000 * 16 / 32)
    assert jobs["cnn"]["iterations"] == 4 and math.isclose(
        jobs["cnn"]["hours"], 4 * jobs["cnn"]["seconds_per_iteration"] / 3600)
    # the GPU bundle's run-check: {"device", "table1": [{"net", "batch", "ms_per_iter"}, ...]}
    check = tmp_path / "check"
    check.mkdir()
    (check / "verdict.json").write_text(json.dumps({"device": "NVIDIA H200", "table1": [
        {"net": "alexnet_cnn", "batch": 8, "ms_per_iter": 2.0},
        {"net": "alexnet_racnn", "batch": 8, "ms_per_iter": 6.0}]}))
    cost = _cost(env, "one", "--dataset", "cars", "--backbone", "alexnet", "--timing", str(check))
    jobs = {j["stage"]: j for j in cost["jobs"]}
    assert cost["timing"]["device"] == "NVIDIA H200"
    assert math.isclose(jobs["cnn"]["seconds_per_iteration"], 0.002)
    # stage 1 from the SR front's share of RACNN-AlexNet, per pixel
    assert math.isclose(jobs["stage1_sr"]["seconds_per_iteration"],
                        0.004 / 8 / 227 ** 2 * 32 * 51 ** 2)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = sweep(env, "plan", "one", "--cost", "--timing", str(bad))
    assert r.returncode == 2 and r.stderr.startswith(
        "sweep.py: error: --timing %s: not a readable JSON file" % bad), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_cost_of_part_of_a_graph(tmp_path):
    """A resubmission's cost: the jobs still to run, whose dependencies may
    have finished and be left out of the list (they raised KeyError); the
    critical path starts at the jobs of the list."""
    code = ("import json, sys; from racnn.sweep import cost, jobs, plan; "
            "p = plan.read(sys.argv[1]); g = jobs.build(p, sys.argv[1]); "
            "part = [j for j in g if j['stage'] in ('racnn_p', 'report') and "
            "j['run'] in (p['runs'][0]['name'], None)]; "
            "print(json.dumps(cost.estimate(p, part, cost.load_timing(None))))")
    env = data_env(tmp_path)
    r = sweep(env, "plan", "table2")
    assert r.returncode == 0, r.stderr
    r = python("-c", code, os.path.join(env["RACNN_RUNS"], "sweeps", "table2"), env=env)
    assert r.returncode == 0, r.stderr
    part = json.loads(r.stdout)
    (p,) = [j for j in part["jobs"] if j["stage"] == "racnn_p"]
    assert [j["name"] for j in part["jobs"]] == [p["name"], "report"]
    assert math.isclose(part["critical_path_hours"], p["hours"])
    assert math.isclose(part["total_gpu_hours"], p["gpu_hours"])
