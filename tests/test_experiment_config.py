"""Configuration keys of issue 13: sr_max_images (all / none / null mean no
limit, 0 is an error), jpeg_quality, the staged variant's stages."""
import os
import subprocess
import sys

import pytest

from racnn.errors import RacnnError
from racnn.rundir import settings as experiment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dry_run(tmp_path, *args):
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    return subprocess.run([sys.executable, "tools/experiment.py", "birds", "alexnet",
                           "--dry-run"] + list(args), cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


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


SR_SCRIPT = """
import json, sys
from racnn.rundir import settings as config
from racnn.inputs import databases as inputs
cfg = config.make_config("birds", "tiny", sr_images=sys.argv[1], sr_size=24, sr_res=8,
                         sr_patch=12, sr_stride=12, sr_max_images=sys.argv[2])
path, m = inputs.sr_patches(cfg, {"data_root": None}, None, None)
print(json.dumps([path, m["images"], m["max_images"], m["count"]]))
"""


def test_sr_images_folder_every_image_or_a_sample(tmp_path):
    """SR_IMAGES=DIR with sr_max_images all: every image, in a database of its
    own (not the one of the default 500-image sample); a count: that many."""
    import json
    import cv2
    import numpy as np
    det = tmp_path / "det"
    det.mkdir()
    rng = np.random.RandomState(0)
    for i in range(3):
        cv2.imwrite(str(det / ("%d.png" % i)), rng.randint(0, 256, (30, 40, 3), np.uint8))
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"))

    def build(limit):
        r = subprocess.run([sys.executable, "-c", SR_SCRIPT, str(det), limit], cwd=REPO,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])
    path, images, limit, count = build("all")
    assert path.startswith(str(tmp_path / "data" / "lmdb" / "sr-det")) and path.endswith("_nall")
    assert (images, limit, count) == (3, None, 3 * 4)        # 2 x 2 patches per image
    path2, images, limit, _ = build("2")
    assert path2.endswith("_n2") and (images, limit) == (2, 2)
    dry = subprocess.run(["make", "-n", "birds-alexnet", "SR_IMAGES=/data/det",
                          "SR_MAX_IMAGES=all", "VARIANTS=cnn,staged"], cwd=REPO,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert ("--set sr_images=/data/det --set sr_max_images=all --set variants=cnn,staged"
            in " ".join(dry.split()))
