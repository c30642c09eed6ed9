"""racnn.rundir.settings: a run's configuration (the release's defaults,
smoke values, overrides, validation of every key), its folder name (keeping
settings apart) and stage plan; tools/experiment.py's --dry-run and its
errors."""
import json

import pytest

from racnn.errors import RacnnError
from racnn.rundir import settings as experiment
from tests.support.commands import experiment as tool


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
    assert experiment.run_name(authors) == "birds-googlenet-r50-e2e-release-srauthors-gsr-it1m"
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


def test_run_names_keep_weights_and_sizes_apart(tmp_path):
    """Issue 15, item 9: two settings that differ only in backbone_weights or
    db_size had the same run folder; default names are unchanged."""
    name = lambda **kw: experiment.run_name(experiment.make_config("cars", "alexnet", **kw))  # noqa: E731
    assert name() == "cars-alexnet-r50-e2e-paper"
    assert name(backbone_weights="none") == "cars-alexnet-r50-e2e-paper-bwnone"
    assert name(backbone_weights="hr") == "cars-alexnet-r50-e2e-paper-bwhr"
    assert name(db_size=256) == "cars-alexnet-r50-e2e-paper-s256"
    weights = tmp_path / "my weights.caffemodel"
    with_file = name(backbone_weights=str(weights), smoke=True)
    assert with_file.startswith("cars-alexnet-r50-e2e-paper-bwmy_weights.")
    assert with_file.endswith("-smoke")
    other = name(backbone_weights=str(tmp_path / "x" / "my weights.caffemodel"), smoke=True)
    assert other != with_file                       # same file name, another file
    tiny = lambda **kw: experiment.run_name(experiment.make_config(  # noqa: E731
        "syn", "tiny", data_format="folder", data_root=str(tmp_path), **kw))
    assert tiny() == "syn-tiny-r50-e2e-paper"        # tiny's defaults: hr, 72
    assert tiny(backbone_weights="none", db_size=96) == "syn-tiny-r50-e2e-paper-bwnone-s96"


# ------------------------------------------- configuration keys of issue 13

def dry_run(tmp_path, *args):
    """tools/experiment.py birds alexnet --dry-run ARGS."""
    return tool(["birds", "alexnet", "--dry-run"] + list(args), tmp_path)


@pytest.mark.parametrize("value", ["all", "none", "ALL", None, "null"])
def test_sr_max_images_no_limit(value):
    cfg = experiment.make_config("birds", "alexnet", sr_max_images=value)
    assert cfg["sr_max_images"] is None
    # the smoke setting (8) is overridden too: an explicit null is not "unset"
    assert experiment.make_config("birds", "alexnet", smoke=True,
                                  sr_max_images=value)["sr_max_images"] is None


def test_sr_max_images_counts_and_errors():
    assert experiment.make_config("birds", "alexnet")["sr_max_images"] == 500
    assert experiment.make_config("birds", "alexnet", sr_max_images="11142")[
        "sr_max_images"] == 11142
    for bad in (0, "0", -3, 2.5, "many", True):
        with pytest.raises(RacnnError, match="sr_max_images=.*positive number of images"):
            experiment.make_config("birds", "alexnet", sr_max_images=bad)


def test_set_sr_max_images_on_the_command_line(tmp_path):
    for text in ("null", "all", "none"):
        r = dry_run(tmp_path, "--set", "sr_max_images=" + text)
        assert r.returncode == 0, r.stderr
        assert '"sr_max_images": null' in r.stdout
    r = dry_run(tmp_path, "--set", "sr_max_images=0")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("experiment.py: error: sr_max_images=0: "
                                                        "expected a positive number of images")


def test_jpeg_quality():
    assert experiment.make_config("birds", "alexnet")["jpeg_quality"] is None
    cfg = experiment.make_config("birds", "alexnet", jpeg_quality="75")
    assert cfg["jpeg_quality"] == 75 and "-jpeg75" in experiment.run_name(cfg)
    for bad in (0, 101, "high", 7.5):
        with pytest.raises(RacnnError, match="jpeg_quality=.*1..100"):
            experiment.make_config("birds", "alexnet", jpeg_quality=bad)


def test_jpeg_quality_checked_before_any_work():
    with pytest.raises(RacnnError, match="jpeg_quality=0: expected a JPEG quality 1..100"):
        experiment.make_config("birds", "tiny", jpeg_quality=0)


def test_staged_variant_plans_hr_then_lr(tmp_path):
    cfg = experiment.make_config("cars", "alexnet")
    assert cfg["variants"] == ["cnn", "racnn_g", "racnn_p"]       # staged only when asked
    cfg = experiment.make_config("cars", "alexnet", variants=["racnn_p", "staged", "cnn"])
    assert experiment.stage_plan(cfg) == ["stage1_sr", "cnn", "staged_hr", "staged",
                                          "racnn_p"]
    r = dry_run(tmp_path, "--variants", "cnn,staged")
    assert r.returncode == 0, r.stderr
    assert "stages: cnn, staged_hr, staged" in r.stdout
    r = dry_run(tmp_path, "--variants", "cnn,stagd")
    assert r.returncode == 2 and "unknown variant 'stagd'; valid: cnn, staged, racnn_g, " \
        "racnn_p" in r.stderr


# ------------------------------------- the release's g-RACNN start and length
def test_g_racnn_starts_where_the_reading_says_and_reads_stage1_then():
    """The release's g-RACNN notebooks copy the pre-trained SR weights in
    after the ImageNet backbone; the paper's text starts g-RACNN from the
    fillers.  The reading's default follows each; stage 1's place in the
    plan, what each stage reads and restarting stage 1 follow from it."""
    paper = experiment.make_config("birds", "alexnet")
    assert (paper["g_sr_init"], paper["stage2_length"]) == ("gaussian", "solver")
    assert experiment.sr_start(paper, "racnn_g") == "gaussian"
    assert experiment.sr_start(paper, "racnn_p") == "pretrained"
    assert experiment.sr_start(paper, "cnn") is None
    assert experiment.stage_reads(paper, "racnn_g") == []
    assert experiment.stage_reads(paper, "racnn_p") == ["stage1_sr"]
    assert experiment.stage_dependents(paper, "stage1_sr") == ("racnn_p",)
    release = experiment.make_config("birds", "alexnet", mults="release", mode="frozen")
    assert (release["g_sr_init"], release["stage2_length"]) == ("pretrained", "notebooks")
    assert experiment.stage_reads(release, "racnn_g") == ["stage1_sr"]
    assert experiment.stage_dependents(release, "stage1_sr") == ("racnn_g", "racnn_p")
    assert experiment.run_name(release) == "birds-alexnet-r50-frozen-release-gsr-it1m"
    # g-RACNN alone needs stage 1 when it starts from it
    g_only = dict(variants=["cnn", "racnn_g"])
    assert experiment.stage_plan(experiment.make_config(
        "birds", "alexnet", mults="release", **g_only)) == ["stage1_sr", "cnn", "racnn_g"]
    assert experiment.stage_plan(experiment.make_config("birds", "alexnet", **g_only)) == [
        "cnn", "racnn_g"]
    assert experiment.stage_plan(experiment.make_config(
        "birds", "alexnet", mults="release", sr_weights="authors", **g_only)) == [
        "cnn", "racnn_g"]
    # either start, either length, with either reading: named apart
    assert experiment.run_name(experiment.make_config(
        "birds", "alexnet", mults="release", g_sr_init="gaussian", stage2_length="solver")) == \
        "birds-alexnet-r50-e2e-release"
    assert experiment.run_name(experiment.make_config(
        "birds", "alexnet", g_sr_init="pretrained")) == "birds-alexnet-r50-e2e-paper-gsr"
    with pytest.raises(RacnnError, match="unknown g_sr_init 'x'; valid: gaussian, pretrained"):
        experiment.make_config("birds", "alexnet", g_sr_init="x")
    with pytest.raises(RacnnError, match="unknown stage2_length 'x'; valid: solver, notebooks"):
        experiment.make_config("birds", "alexnet", stage2_length="x")


def test_a_run_folder_of_an_older_version_ran_gaussian_g_and_the_solver_length():
    """A config.json written before g_sr_init / stage2_length existed ran
    g-RACNN from the fillers for the solver's max_iter: under the release
    reading that folder is another configuration, named as such; under the
    paper's it is the same."""
    from racnn.rundir.verdict import config_differences
    old = {k: v for k, v in experiment.make_config("birds", "alexnet", mults="release").items()
           if k not in ("g_sr_init", "stage2_length")}
    wanted = experiment.make_config("birds", "alexnet", mults="release")
    assert config_differences(old, wanted) == ["g_sr_init: 'gaussian' -> 'pretrained'",
                                               "stage2_length: 'solver' -> 'notebooks'"]
    paper = experiment.make_config("birds", "alexnet")
    assert config_differences({k: v for k, v in paper.items() if k != "g_sr_init"}, paper) == []


def test_stage1_images_and_seeds_are_named_in_the_run_name(tmp_path):
    det = tmp_path / "ILSVRC2015_DET test"
    det.mkdir()
    cfg = experiment.make_config("birds", "alexnet", sr_images=str(det), seed=3)
    assert experiment.run_name(cfg) == "birds-alexnet-r50-e2e-paper-srILSVRC2015_DET_test-seed3"
    # how many of them, when not the default 500 (the paper's: all 11,142)
    for count, suffix in (("all", "_nall"), (2000, "_n2000"), (500, "")):
        assert experiment.run_name(experiment.make_config(
            "birds", "alexnet", sr_images=str(det), sr_max_images=count)) == \
            "birds-alexnet-r50-e2e-paper-srILSVRC2015_DET_test%s" % suffix
    assert experiment.run_name(experiment.make_config(      # smoke's own default sample
        "birds", "alexnet", sr_images=str(det), smoke=True)).endswith("_DET_test-smoke")
    assert experiment.run_name(experiment.make_config("birds", "alexnet", seed=1701)) == \
        "birds-alexnet-r50-e2e-paper"


def test_seeds_make_one_run_folder_per_seed(tmp_path):
    """`make birds-alexnet SEEDS=1,2,3` (tools/experiment.py --seeds): one
    configuration and run folder per seed, named after it (the default seed
    keeps the plain name), so that the report's cells get the seeds' mean and
    spread; --run-dir would put them in one folder and is refused."""
    r = dry_run(tmp_path, "--mode", "frozen", "--seeds", "1701,2,3")
    assert r.returncode == 0, r.stderr
    folders = [line.split("run folder: ")[1].rsplit("/", 1)[1]
               for line in r.stdout.splitlines() if line.startswith("run folder: ")]
    assert folders == ["birds-alexnet-r50-frozen-paper", "birds-alexnet-r50-frozen-paper-seed2",
                       "birds-alexnet-r50-frozen-paper-seed3"]
    assert r.stdout.count('"seed": ') == 3 and '"seed": 3' in r.stdout
    for args, why in ((("--seeds", "1,1"), "distinct whole numbers"),
                      (("--seeds", "1,2", "--run-dir", str(tmp_path / "x")), "--run-dir names")):
        r = dry_run(tmp_path, *args)
        assert r.returncode != 0 and why in r.stderr, r.stderr
