"""racnn.inputs.databases: a run's databases named apart from other subsets,
checked before Caffe reads them (a truncated data.mdb, a dataset cut down
below the committed nets' classes), and the SR patch database of a folder
of images."""
import json
import os
import subprocess
import sys

import pytest

from racnn import vocab
from racnn.inputs import databases as expdata
from racnn.paths import REPO
from racnn.rundir import settings as experiment
from tests.support.commands import experiment as tool


def test_db_names_of_subsets_do_not_collide_with_full_databases():
    full = experiment.make_config("birds", "alexnet")
    smoke = experiment.make_config("birds", "alexnet", smoke=True)
    assert expdata.db_root(full).endswith(os.path.join("lmdb", "birds"))
    assert expdata.db_root(smoke).endswith(os.path.join("lmdb", "birds-sub48x24"))
    assert vocab.db_path("", "train", 50, 227, "matlab", root=expdata.db_root(full)).endswith(
        os.path.join("birds", "train_r50_s227_matlab"))


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


@pytest.mark.shared
def test_cut_down_dataset_with_committed_nets_fails_before_training(shared, tmp_path):
    root = os.path.join(shared, "data", "cub_mini")
    proc = tool(["birds", "alexnet", "--smoke", "--data-root", root, "--backbone-weights", "none"],
                tmp_path)
    assert proc.returncode == 2
    assert "has 10 classes, the committed birds nets in prototxt/alexnet/birds/ have 200 " \
        "outputs" in proc.stderr
    assert "tools/experiment.py my_birds alexnet --format cub --data-root %s" % root \
        in proc.stderr
    assert "then add --nets mynets/" in proc.stderr              # editing its nets
    # the check failed before training: no run folder locks that configuration
    runs = [n for n in os.listdir(str(tmp_path / "runs")) if not n.startswith(".")] \
        if os.path.isdir(str(tmp_path / "runs")) else []
    assert runs == []


HR_SCRIPT = """
import json, sys
from racnn.rundir import settings as config
from racnn.inputs import databases as inputs
cfg = config.make_config("syn", "tiny", data_format="folder", data_root=sys.argv[1], res=8,
                         db_size=24, jpeg_quality=int(sys.argv[2]) or None)
out = inputs.databases(cfg, {"data_root": sys.argv[1]}, ["backbone_hr", "staged_hr", "cnn"])
print(json.dumps({k: out[k] for k in ("train_db", "hr_train_db", "hr_test_db")}))
"""


def test_jpeg_round_trip_reaches_the_hr_databases_as_the_release_wrote_them(tmp_path):
    """The release's script writes the HR images through JPEG too (its .jpg
    files): with jpeg_quality the databases of the HR stages (backbone_hr,
    staged_hr) hold JPEG-decoded pixels as the LR ones do, named apart from
    the raw ones (they were raw before)."""
    from racnn.datasets import synthetic
    from racnn.db import lmdbio
    import numpy as np
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=3, test_per_class=2)
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"))

    def build(q):
        r = subprocess.run([sys.executable, "-c", HR_SCRIPT, root, str(q)], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])
    jpeg, raw = build(75), build(0)
    for key in ("train_db", "hr_train_db", "hr_test_db"):
        assert jpeg[key].endswith("_jpeg75") and not raw[key].endswith("_jpeg75"), key
        with open(os.path.join(jpeg[key], "manifest.json")) as fh:
            assert json.load(fh)["jpeg_quality"] == 75
    a = [d for _, _, d in lmdbio.iter_datums(jpeg["hr_train_db"])]
    b = [d for _, _, d in lmdbio.iter_datums(raw["hr_train_db"])]
    assert len(a) == len(b) == 6
    assert any(not np.array_equal(x, y) for x, y in zip(a, b))     # JPEG-decoded pixels
