"""The experiment driver's configuration, run folders, stage-file rewriting
and fail-fast messages (tools/experiment.py, racnn.rundir.settings,
racnn.train, racnn.rundir)."""
import json
import os
import re
import subprocess
import sys

import pytest

from racnn import protoio, vocab
from racnn.inputs import databases as expdata
from racnn.inputs import gpu as expgpu
from racnn.rundir import reader
from racnn.rundir import settings as experiment
from racnn.train import provenance, schedule, stage_copies
from racnn.errors import RacnnError
from racnn.train.driver import Trainer as Experiment
from racnn.train.net_sources import classifier_sources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tool(args, tmp_path, **env):
    """tools/experiment.py in a clean data/runs tree under tmp_path."""
    e = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    e.update(env)
    return subprocess.run([sys.executable, "tools/experiment.py"] + list(args), cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=e)


# ------------------------------------------------------------ configuration
def test_defaults_follow_the_release_and_overrides_win():
    cfg = experiment.make_config("cars", "alexnet")
    assert (cfg["res"], cfg["mode"], cfg["mults"], cfg["sr_weights"]) == (50, "e2e", "paper",
                                                                        "pretrain")
    assert cfg["db_size"] == 227 and cfg["kernel"] == "matlab" and cfg["iters"] is None
    assert (cfg["sr_size"], cfg["sr_res"], cfg["sr_patch"], cfg["sr_stride"]) == (227, 50, 51, 17)
    assert experiment.run_name(cfg) == "cars-alexnet-r50-e2e-paper"
    assert experiment.stage_plan(cfg) == ["stage1_sr", "cnn", "racnn_g", "racnn_p"]

    smoke = experiment.make_config("birds", "vgg16", smoke=True, res=25, mode="frozen")
    assert smoke["iters"] == experiment.SMOKE["iters"] and smoke["res"] == 25
    assert experiment.run_name(smoke) == "birds-vgg16-r25-frozen-paper-smoke"
    # a command-line value beats the smoke value
    assert experiment.make_config("birds", "vgg16", smoke=True, iters=9)["iters"] == 9

    authors = experiment.make_config("cub", "googlenet", sr_weights="authors", mults="release")
    assert authors["dataset"] == "birds"           # alias
    assert experiment.run_name(authors) == "birds-googlenet-r50-e2e-release-srauthors"
    assert "stage1_sr" not in experiment.stage_plan(authors)

    tiny = experiment.make_config("flowers", "tiny")
    assert tiny["backbone_weights"] == "hr" and tiny["db_size"] == 72
    assert experiment.stage_plan(tiny)[0] == "backbone_hr"


@pytest.mark.parametrize("args, message", [
    (("dogs", "alexnet"), "unknown dataset 'dogs'; valid: cars, birds, flowers"),
    (("cars", "resnet"), "unknown backbone 'resnet'; valid: alexnet, vgg16, googlenet, tiny"),
    (("cars", "alexnet", "--mode", "fast"), "unknown mode (--mode) 'fast'; valid: e2e, frozen"),
    (("cars", "alexnet", "--mults", "x"), "valid: paper, release"),
    (("cars", "alexnet", "--sr-weights", "x"), "valid: pretrain, authors"),
    (("cars", "alexnet", "--set", "epochs=3"), "unknown configuration key(s) epochs; valid: "),
    (("cars", "alexnet", "--variants", "cnn,vgg"), "unknown variant 'vgg'; valid: cnn, "),
])
def test_unknown_names_list_the_valid_ones(tmp_path, args, message):
    proc = tool(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_dry_run_prints_the_resolved_configuration(tmp_path):
    proc = tool(["birds", "alexnet", "--res", "25", "--set", "stage2_epochs=30",
                 "--dry-run"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    cfg = json.loads(proc.stdout[:proc.stdout.rindex("}") + 1])
    assert cfg["res"] == 25 and cfg["stage2_epochs"] == 30 and cfg["dataset"] == "birds"
    assert "run folder: %s" % (tmp_path / "runs" / "birds-alexnet-r25-e2e-paper") in proc.stdout


# ------------------------------------------------------------ fail fast
def test_small_sources_warned_and_recorded_and_a_crop_larger_than_the_db_refused(tmp_path):
    """Issue 15, items 6 and 7: 32-pixel images stored at 32 for a net that
    crops 64: a warning that they are upscaled, the source size range in the
    manifest, and an error naming both sizes before Caffe's C++ check."""
    from racnn.datasets import synthetic
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=2, test_per_class=1, size=32)
    proc = tool(["syn", "tiny", "--format", "folder", "--data-root", root, "--smoke",
                 "--variants", "cnn", "--backbone-weights", "none", "--set", "db_size=32",
                 "--res", "16"],
                tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "warning: syn: 4 of 4 images have a shorter side under 64 px (shortest sides " \
        "32..32 px; stored at 32x32): they are upscaled, not high-resolution" in proc.stderr
    db = re.search(r"\(database (\S+)\)", proc.stderr).group(1)
    with open(os.path.join(db, "manifest.json")) as fh:
        manifest = json.load(fh)
    assert manifest["source_sides"] == [32, 32] and manifest["source_smaller"]["64"] == 4
    assert "database %s stores 32x32 images, but " % db in proc.stderr
    assert "crops 64x64 from them (layer data, transform_param crop_size); build the " \
        "databases at least that large (--set db_size=64" in proc.stderr
    assert "Traceback" not in proc.stderr and "Check failed" not in proc.stderr


def test_missing_dataset_names_it_where_it_goes_and_the_fetch_command(tmp_path):
    proc = tool(["cars", "alexnet"], tmp_path)
    assert proc.returncode == 2
    err = proc.stderr
    assert "dataset cars (Stanford Cars" in err and "is missing" in err
    assert str(tmp_path / "data") in err                     # where it must be put
    assert "python3 tools/fetch.py cars" in err              # the fetch command
    assert "Traceback" not in err
    runs = tmp_path / "runs"         # failed before any work: at most the run's lock file
    assert not runs.exists() or [n for n in os.listdir(str(runs)) if not n.startswith(".")] == []


def test_missing_imagenet_weights_name_the_model_and_fetch_command(tmp_path):
    from racnn.datasets import synthetic
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=2, test_per_class=1, size=32)
    proc = tool(["syn", "alexnet", "--format", "folder", "--data-root", root], tmp_path)
    assert proc.returncode == 2
    assert "bvlc_alexnet" in proc.stderr
    assert "docker/run python3 tools/fetch.py bvlc_alexnet" in proc.stderr   # as on the host
    assert "Or train without ImageNet weights: --backbone-weights none (fillers; make ... " \
        "BACKBONE_WEIGHTS=none)" in proc.stderr
    proc = tool(["syn", "tiny", "--format", "folder", "--data-root", root, "--sr-weights",
                 "authors"], tmp_path)
    assert proc.returncode == 2
    assert "rsrcnn_authors" in proc.stderr and "python3 tools/fetch.py rsrcnn_authors" \
        in proc.stderr
    proc = tool(["syn", "tiny", "--format", "folder", "--data-root", str(tmp_path / "nope")],
                tmp_path)
    assert proc.returncode == 2 and "dataset syn: %s does not exist" % (tmp_path / "nope") \
        in proc.stderr
    proc = tool(["syn", "tiny", "--data-root", root], tmp_path)
    assert proc.returncode == 2 and "unknown dataset 'syn'" in proc.stderr


def test_gpu_request_without_a_usable_gpu_is_refused():
    # (issue 11: a run asked for a GPU stops at once; tests/test_gpu_flags.py
    # runs the tool)
    if expgpu._gpu_problem("0") is None:
        pytest.skip("a GPU is usable here")
    with pytest.raises(RacnnError, match="GPU 0 requested"):
        expgpu.usable_gpu("0")
    assert expgpu.usable_gpu("") is None


# ------------------------------------------------------------ run folders
def test_run_folder_refuses_another_configuration_once_training_started(tmp_path):
    cfg = experiment.make_config("cars", "alexnet")
    provenance.prepare(str(tmp_path), dict(cfg))
    provenance.prepare(str(tmp_path), dict(cfg, gpu="0"))      # volatile: fine
    version = (tmp_path / "VERSION").read_text()
    assert "racnn" in version
    # nothing trained yet: the folder takes the new configuration
    provenance.prepare(str(tmp_path), dict(cfg, data_root="/elsewhere"))
    assert json.load(open(str(tmp_path / "config.json")))["data_root"] == "/elsewhere"
    (tmp_path / "cnn").mkdir()
    (tmp_path / "cnn" / "train.log").write_text("I1201 ...\n")      # training started
    with pytest.raises(RacnnError, match=r"another configuration \(res: 50 -> 25"):
        provenance.prepare(str(tmp_path), dict(cfg, data_root="/elsewhere", res=25))


def _committed(variant="racnn_p"):
    cfg = experiment.make_config("birds", "alexnet")
    return cfg, classifier_sources(cfg, variant, None, None)


def test_committed_net_copied_with_only_the_databases_rewritten(tmp_path):
    cfg, src = _committed()
    assert src["train_val"] == os.path.join(
        REPO, "prototxt", "alexnet", "birds", "racnn_p_e2e_paper_train_val.prototxt")
    dst = str(tmp_path / "train_val.prototxt")
    used = stage_copies.copy_net(src["train_val"], dst, {"train": "/db/tr", "test": "/db/te"})
    assert used == {"train": 8, "test": 2}                   # the release's batch sizes
    orig, copy = protoio.read_net(src["train_val"]), protoio.read_net(dst)
    layers = stage_copies.data_layers(copy)
    assert layers["train"].data_param.source == "/db/tr"
    assert layers["test"].data_param.source == "/db/te"
    for phase, layer in stage_copies.data_layers(orig).items():   # put the sources back:
        layers[phase].data_param.source = layer.data_param.source
    assert copy == orig                                      # nothing else changed
    used = stage_copies.copy_net(src["train_val"], dst, {"train": "a", "test": "b"},
                              {"train": 3, "test": None})
    assert used == {"train": 3, "test": 2}
    with pytest.raises(RacnnError, match="no database for the Data layer"):
        stage_copies.copy_net(src["train_val"], dst, {"train": "a"})


def test_solver_copy_keeps_the_committed_settings_and_scales_the_schedule(tmp_path):
    cfg, src = _committed()
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


def test_iteration_counts_follow_epochs_or_the_release(tmp_path):
    cfg, src = _committed("cnn")
    exp = Experiment(dict(cfg, snapshots=4, tests=2), str(tmp_path / "run"))
    exp.gpu = None
    os.makedirs(exp.run_dir)
    rec = exp._setup("cnn", src, {"train": "/db/tr", "test": "/db/te"}, None, None, 5994,
                     "stage2", 5794)
    assert rec["max_iter"] == 700000 and rec["batch_size"] == 8      # the release's schedule
    assert rec["test_iter"] == 2897                                   # 5794 / 2, all test images
    assert rec["epochs"] == pytest.approx(700000 * 8 / 5994.0, abs=1e-3)
    exp = Experiment(dict(cfg, stage2_epochs=2.5, snapshots=4, tests=2,
                          solver={"stage2": {"base_lr": 0.001}}), str(tmp_path / "run2"))
    exp.gpu = None
    os.makedirs(exp.run_dir)
    rec = exp._setup("cnn", src, {"train": "/db/tr", "test": "/db/te"}, {"train": 16}, 2.5,
                     1000, "stage2", 100)
    assert rec["max_iter"] == 157 and rec["batch_size"] == 16        # ceil(2.5 * 1000 / 16)
    solver = protoio.read_solver(str(tmp_path / "run2" / "cnn" / "solver.prototxt"))
    assert solver.max_iter == 157 and list(solver.stepvalue) == [round(157 * 6 / 7.)]
    assert solver.base_lr == pytest.approx(0.001) and solver.snapshot == 40
    assert json.load(open(str(tmp_path / "run2" / "config.json")))["stages"]["cnn"][
        "max_iter"] == 157


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


def test_db_names_of_subsets_do_not_collide_with_full_databases():
    full = experiment.make_config("birds", "alexnet")
    smoke = experiment.make_config("birds", "alexnet", smoke=True)
    assert expdata.db_root(full).endswith(os.path.join("lmdb", "birds"))
    assert expdata.db_root(smoke).endswith(os.path.join("lmdb", "birds-sub48x24"))
    assert vocab.db_path("", "train", 50, 227, "matlab", root=expdata.db_root(full)).endswith(
        os.path.join("birds", "train_r50_s227_matlab"))


# ------------------------------------------ sources, stale copies, restarts
def test_restart_takes_the_stages_that_read_the_restarted_model():
    plan = ["backbone_hr", "stage1_sr", "cnn", "racnn_g", "racnn_p"]
    assert provenance.restart_set(["stage1_sr"], plan) == ["stage1_sr", "racnn_p"]
    assert provenance.restart_set(["racnn_g", "cnn"], plan) == ["racnn_g", "cnn"]
    assert provenance.restart_set(["backbone_hr"], plan) == [
        "backbone_hr", "cnn", "racnn_g", "racnn_p"]
    with pytest.raises(RacnnError, match=r"--restart racnn_x: not a stage of this run "
                       r"\(its stages: backbone_hr, stage1_sr, cnn, racnn_g, racnn_p\)"):
        provenance.restart_set(["racnn_x"], plan)
    cfg = experiment.make_config("cars", "alexnet", restart="racnn_g, cnn")
    assert cfg["restart"] == ["racnn_g", "cnn"] and "restart" in experiment.VOLATILE


def test_changed_sources_by_content_and_supersede_keeps_generated(tmp_path):
    tv, solver = tmp_path / "tv.prototxt", tmp_path / "solver.prototxt"
    tv.write_text("name: 'a'\n")
    solver.write_text("base_lr: 0.01\n")
    src = {"train_val": str(tv), "solver": str(solver), "deploy": "/not/read"}
    rec = {"source_sha256": provenance.source_hashes(src)}
    assert sorted(rec["source_sha256"]) == ["solver", "train_val"]
    assert provenance.changed_sources(rec, src) == []
    assert provenance.changed_sources({}, src) == []           # older run folders: unknown
    tv.write_text("name: 'a'\n")                               # rewritten, same bytes
    assert provenance.changed_sources(rec, src) == []
    tv.write_text("name: 'b'\n")
    (changed,) = provenance.changed_sources(rec, src)
    assert changed.startswith("%s (sha256 %s.. -> " % (tv, rec["source_sha256"]["train_val"][:12]))
    msg = provenance.stale_message("racnn_g", [changed], "docker/run python3 tools/experiment.py "
                                  "cars alexnet")
    assert msg.endswith("To retrain it with the current file: docker/run python3 "
                        "tools/experiment.py cars alexnet --restart racnn_g")
    stage = tmp_path / "run" / "racnn_g"
    (stage / "generated").mkdir(parents=True)
    (stage / "generated" / "train_val.prototxt").write_text("x")
    (stage / "DONE").write_text("{}")
    old = provenance.supersede(str(stage))
    assert os.listdir(str(stage)) == ["generated"] and os.listdir(old) == ["DONE"]
    assert os.path.dirname(old) == str(tmp_path / "run" / "superseded")


def test_crop_larger_than_the_stored_patches_is_refused(tmp_path):
    from caffe.proto import caffe_pb2
    db = tmp_path / "sr_db"
    db.mkdir()
    (db / "data.mdb").write_bytes(b"")
    (db / "manifest.json").write_text(json.dumps({"kind": "sr_patches", "count": 8,
                                                  "patch": 51, "size": 227}))
    layer = caffe_pb2.LayerParameter(name="pairs", type="Data")
    layer.transform_param.crop_size = 51
    stage_copies.check_crop("net.prototxt", layer, str(db))             # as stored: fine
    layer.transform_param.crop_size = 60
    with pytest.raises(RacnnError, match=r"database %s stores 51x51 images, but net.prototxt "
                       r"crops 60x60 from them \(layer pairs, transform_param crop_size\); "
                       r"build the databases at least that large \(--set sr_patch=60"
                       % re.escape(str(db))):
        stage_copies.check_crop("net.prototxt", layer, str(db))


def test_source_note_names_the_file_or_how_to_edit_a_generated_net(tmp_path):
    stage = tmp_path / "run" / "cnn"
    note = provenance.source_note(str(stage / "generated" / "train_val.prototxt"), str(stage))
    assert note.startswith("a net generated for this run (cnn/generated/train_val.prototxt); "
                           "to edit it, write the set once with tools/make_nets.py")
    assert provenance.source_note("/x/mynets/cnn_e2e_paper_train_val.prototxt", str(stage)) == \
        "/x/mynets/cnn_e2e_paper_train_val.prototxt"


def test_truncated_database_is_named_before_caffe_reads_it(tmp_path):
    """A data.mdb cut short after it was built (a copy, a full disk) made
    `caffe train` die of SIGBUS with no message; the driver now checks the
    data file of every database it trains from and names it."""
    from racnn.datasets import synthetic
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=3, test_per_class=2)
    args = ["syn", "tiny", "--format", "folder", "--data-root", root, "--smoke",
            "--variants", "cnn", "--backbone-weights", "none"]
    first = tool(args, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    dbs = [os.path.join(d, "data.mdb") for d, _, files in os.walk(str(tmp_path / "data" / "lmdb"))
           if "data.mdb" in files and "train" in os.path.basename(d)]
    assert len(dbs) == 1, dbs
    full = os.path.getsize(dbs[0])
    with open(dbs[0], "r+b") as fh:
        fh.truncate(full // 2)
    proc = tool(args + ["--restart", "cnn"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "%s is truncated (%d bytes, its LMDB header says %d)" % (dbs[0], full // 2, full) \
        in proc.stderr
    assert "Traceback" not in proc.stderr and "exit status -7" not in proc.stderr
