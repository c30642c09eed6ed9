"""racnn.train.stage_copies: a stage's copy of a committed net with only its
databases and batch sizes rewritten, and crops larger than the stored images
refused before Caffe's C++ check."""
import json
import os
import re

import pytest

from racnn import protoio
from racnn.errors import RacnnError
from racnn.paths import REPO
from racnn.train import stage_copies
from tests.support.commands import experiment as tool


def test_committed_net_copied_with_only_the_databases_rewritten(tmp_path, committed):
    cfg, src = committed()
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
