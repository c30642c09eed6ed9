"""racnn.sweep.plan: plan.json, one tools/experiment.py command per run
folder; a dry run writes nothing, another plan under one name is refused."""
import json
import os

from tests.support.commands import data_env, python, sweep


def test_table2_plan_dry_run_writes_nothing(tmp_path):
    env = data_env(tmp_path)
    r = sweep(env, "plan", "table2", "--dry-run")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout[:r.stdout.index("\nsweep table2:")])
    names = [x["name"] for x in plan["runs"]]
    assert names == ["%s-%s-r50-frozen-paper" % (ds, bb) for bb in ("alexnet", "vgg16",
                                                                     "googlenet")
                     for ds in ("cars", "birds", "flowers")]
    for x in plan["runs"]:
        assert x["command"][:4] == ["python3", "tools/experiment.py", x["dataset"],
                                    x["backbone"]]
        assert x["run_dir"] == os.path.join(env["RACNN_RUNS"], x["name"])
        assert x["variants"] == ["cnn", "racnn_g", "racnn_p"]
        assert x["stages"] == ["stage1_sr", "cnn", "racnn_g", "racnn_p"]
        assert "mode=\"frozen\"" in x["command"] and "res=50" in x["command"]
    assert "sweep table2: 9 run(s) (grid table2)" in r.stdout
    assert not os.path.exists(env["RACNN_RUNS"])              # a dry run writes nothing


def test_a_different_plan_under_one_name_is_refused(tmp_path):
    env = data_env(tmp_path)
    r = sweep(env, "plan", "mine", "--dataset", "cars,birds", "--backbone", "alexnet",
               "--res", "25,50", "--mode", "frozen")
    assert r.returncode == 0, r.stderr
    assert "sweep mine: 4 run(s)" in r.stdout
    folder = os.path.join(env["RACNN_RUNS"], "sweeps", "mine")
    r = sweep(env, "plan", "mine", "--dataset", "cars", "--backbone", "alexnet")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "sweep.py: error: sweep folder %s already holds another plan (product --dataset "
        "cars,birds --backbone alexnet --res 25,50 --mode frozen, 4 runs); choose another "
        "--name or remove %s" % (folder, os.path.join(folder, "plan.json")))
    r = sweep(env, "plan", "nothing", "--dataset", "cars", "--backbone", "resnet")
    assert r.returncode == 2 and "unknown backbone" in r.stderr.lower(), r.stderr


def test_the_sweep_tool_runs_without_the_environments_modules(tmp_path):
    """tools/sweep.py runs on a cluster's login node beside sbatch, with a
    python3 that has none of numpy, pycaffe, LMDB, OpenCV or tqdm: planning
    table2 (its stage-1 models' settings hashes, their committed nets' sha256)
    imports none of them (it did: the report's rule reached tqdm through the
    databases' progress bars)."""
    code = ("import runpy, sys; [sys.modules.__setitem__(m, None) for m in "
            "('numpy', 'caffe', 'lmdb', 'cv2', 'tqdm', 'google.protobuf')]; "
            "sys.path.insert(0, 'tools'); sys.argv = ['tools/sweep.py', 'plan', 'table2', '--dry-run']; "
            "runpy.run_path('tools/sweep.py', run_name='__main__')")
    r = python("-c", code, env=data_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "sweep table2: 9 run(s)" in r.stdout
