"""racnn.rundir.sr_model: the settings that define a shared stage-1 model.
Two configurations that differ in any setting reaching stage 1 never share
a model; settings that do not reach it do not split it; every configuration
key is classified (a new one must say whether it reaches stage 1)."""
import os
import shutil

from racnn.nets import layout
from racnn.rundir import sr_model
from racnn.rundir.settings import DEFAULTS, make_config

#: for each setting that reaches stage 1, another valid value
OTHER = {"sr_max_images": 100, "sr_size": 200, "sr_res": 25, "sr_patch": 41, "sr_stride": 11,
         "kernel": "opencv", "seed": 7, "mults": "release", "stage1_epochs": 3,
         "stage1_batch": 16, "iters": 5, "snapshots": 3, "tf32": True, "cudnn": True,
         "solver": {"stage1": {"base_lr": 1e-9}}, "dataset": "birds",
         "data_format": "folder", "split_from": "all"}
#: settings that do not reach stage 1, and another value
UNRELATED = {"backbone": "vgg16", "res": 25, "mode": "frozen", "variants": ["racnn_p"],
             "db_size": 256, "train_limit": 10, "stage2_epochs": 3, "jpeg_quality": 75,
             "solver": {"stage2": {"base_lr": 1e-5}}, "backbone_weights": "none"}


def test_every_configuration_key_says_whether_it_reaches_stage_1():
    stage1, dataset, elsewhere = (set(sr_model.STAGE1_KEYS), set(sr_model.DATASET_KEYS),
                                  set(sr_model.ELSEWHERE))
    assert not (stage1 & dataset or stage1 & elsewhere or dataset & elsewhere)
    assert stage1 | dataset | elsewhere == set(DEFAULTS), \
        "classify in racnn/rundir/sr_model.py: %s" % sorted(set(DEFAULTS) - stage1 - dataset -
                                                            elsewhere)


def _cfg(tmp_path, **over):
    base = dict(data_root=str(tmp_path / "cars"))
    base.update(over)
    dataset, backbone = base.pop("dataset", "cars"), base.pop("backbone", "alexnet")
    return make_config(dataset, backbone, **base)


def test_settings_that_differ_in_any_stage1_setting_never_share_a_model(tmp_path):
    run = str(tmp_path / "runs" / "x")
    base = sr_model.folder(run, _cfg(tmp_path))
    assert os.path.dirname(base) == str(tmp_path / "runs" / "sr")
    seen = {base}
    for key in sr_model.STAGE1_KEYS + sr_model.DATASET_KEYS:
        if key in ("sr_images", "data_root", "test_fraction"):
            continue
        folder = sr_model.folder(run, _cfg(tmp_path, **{key: OTHER[key]}))
        assert folder not in seen, key
        seen.add(folder)
    # the images: another data root, another SR image folder
    for over in ({"data_root": str(tmp_path / "elsewhere")},
                 {"sr_images": str(tmp_path / "det")},
                 {"split_from": "all", "test_fraction": 0.5}):
        folder = sr_model.folder(run, _cfg(tmp_path, **over))
        assert folder not in seen, over
        seen.add(folder)
    # settings that do not reach stage 1 do not split it
    for key, value in UNRELATED.items():
        assert sr_model.folder(run, _cfg(tmp_path, **{key: value})) == base, key
    # with SR images of its own, stage 1 no longer reads the dataset
    det = {"sr_images": str(tmp_path / "det")}
    assert sr_model.folder(run, _cfg(tmp_path, **det)) == sr_model.folder(
        run, _cfg(tmp_path, dataset="birds", data_root=str(tmp_path / "birds"), **det))


def test_the_stage1_nets_content_is_part_of_the_model(tmp_path):
    """A --nets folder holding the stage-1 net and solver: their sha256 is
    in the settings; one byte changed is another model."""
    nets = tmp_path / "nets"
    nets.mkdir()
    for src in (layout.sr_train_path("paper"), layout.sr_solver_path("paper")):
        shutil.copy(src, str(nets))
    run = str(tmp_path / "runs" / "x")
    committed = sr_model.folder(run, _cfg(tmp_path))
    mine = sr_model.folder(run, _cfg(tmp_path, nets=str(nets)))
    assert mine == committed                       # the same files: the same model
    train_val = nets / layout.sr_train_name("paper")
    train_val.write_text(train_val.read_text() + "\n# edited\n")
    assert sr_model.folder(run, _cfg(tmp_path, nets=str(nets))) != committed
