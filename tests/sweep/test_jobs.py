"""racnn.sweep.jobs: the plan as a graph of jobs.  table2 trains one
stage-1 model per dataset (3), one in all with SR images of its own
(SR_IMAGES=); every classifier stage is a job of its own, p-RACNN after its
stage-1 model, the report after everything."""
import json
import os

from racnn import vocab
from tests.support.commands import data_env, make_n, sweep


def _graph(env, *args):
    r = sweep(env, "plan", "table2", "--dry-run", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout[:r.stdout.index("\nsweep table2:")]), r.stdout


def test_table2_trains_three_stage1_models_one_with_sr_images(tmp_path):
    env = data_env(tmp_path)
    plan, out = _graph(env)
    jobs = {j["name"]: j for j in plan["jobs"]}
    stage1 = [j for j in plan["jobs"] if j["stage"] == "stage1_sr"]
    assert len(stage1) == len(vocab.DATASETS) == 3
    assert sorted(len(j["runs"]) for j in stage1) == [3, 3, 3]       # one per backbone
    assert "jobs: 31 (3 stage-1 model(s) for 9 run(s) that train stage 1" in out
    for run in plan["runs"]:
        for stage in ("cnn", "racnn_g", "racnn_p"):
            job = jobs["%s:%s" % (run["name"], stage)]
            assert job["command"] == run["command"] + ["--only-stage", stage]
        p = jobs["%s:racnn_p" % run["name"]]
        model = [j for j in stage1 if run["name"] in j["runs"]]
        assert p["depends_on"] == [model[0]["name"]]
        assert model[0]["model"].startswith(os.path.join(env["RACNN_RUNS"], "sr",
                                                         run["dataset"] + "-"))
        assert jobs["%s:cnn" % run["name"]]["depends_on"] == []     # the paper's reading
    assert set(jobs["report"]["depends_on"]) == set(jobs) - {"report"}
    det = str(tmp_path / "det")
    os.makedirs(det)
    plan, out = _graph(env, "--set", "sr_images=%s" % det)
    stage1 = [j for j in plan["jobs"] if j["stage"] == "stage1_sr"]
    assert len(stage1) == 1 and len(stage1[0]["runs"]) == 9
    assert os.path.basename(stage1[0]["model"]).startswith("det-")
    # make's SR_IMAGES= reaches every run of the sweep
    assert "--set sr_images=%s" % det in " ".join(make_n("sweep", "SWEEP=table2",
                                                         "SR_IMAGES=%s" % det).split())


def test_two_sweeps_that_need_one_stage1_model_name_the_same_folder(tmp_path):
    """fig4 (end to end) needs the stage-1 models of table2 (frozen) for Cars
    and Birds: the mode is not a stage-1 setting, so both sweeps name the
    same folders, and the second finds the model the first trained
    (racnn.train.shared_stage1: trained once, under its lock;
    tests/train/test_shared_stage1.py trains one for two drivers)."""
    env = data_env(tmp_path)
    models = {}
    for grid in ("table2", "fig4"):
        r = sweep(env, "plan", grid, "--dry-run")
        assert r.returncode == 0, r.stderr
        plan = json.loads(r.stdout[:r.stdout.index("\nsweep %s:" % grid)])
        models[grid] = {j["model"] for j in plan["jobs"] if j["stage"] == "stage1_sr"}
    assert len(models["fig4"]) == 2 and models["fig4"] < models["table2"]
