"""The databases a run trains and is evaluated on: built through racnn.db
when missing (under their locks: a second builder waits), checked through
their manifests and their LMDB data files before Caffe reads them."""
import os
import sys

from .. import vocab
from ..errors import RacnnError
from ..paths import DATA_DIR
from ..db.classification import ensure_classification_db, small_source_warning
from ..db.lmdbio import check_data_file
from ..db.manifest import check_manifest
from ..db.sr_patches import ensure_sr_patch_db
from ..rundir.settings import DEFAULTS, data_suffix


def db_root(cfg):
    """Databases of this configuration: data/lmdb/<dataset>[-sub<train>x<test>]
    [-from<split><percent>] (racnn.rundir.settings.data_suffix)."""
    return os.path.join(DATA_DIR, "lmdb", cfg["dataset"] + data_suffix(cfg))


def checked_db(path, **expect):
    """The manifest of the database ``path`` checked against ``expect``, and
    its data file's length against its LMDB header: Caffe maps data.mdb, and
    a file cut short after it was built (a copy, a full disk) kills
    `caffe train` with SIGBUS and no message."""
    manifest = check_manifest(path, **expect)
    check_data_file(path)
    return manifest


def databases(cfg, inputs, plan):
    """Build (when missing) and check the run's databases; returns counts,
    class names and paths (``train_db``, ``test_db``, ``hr_*_db``, ``sr_db``)."""
    root = db_root(cfg)
    fmt = cfg["data_format"] or vocab.dataset_spec(cfg["dataset"]).file_format
    size, kernel = cfg["db_size"], cfg["kernel"]
    out = {"paths": {}}

    def classification(split, res):
        # the release's script writes every image it makes as a .jpg: the degraded
        # ones and the HR ones (here: the HR stages' databases) alike
        jpeg = cfg.get("jpeg_quality")
        path = vocab.db_path("", split, res, size, kernel, root=root) + (
            "_jpeg%d" % jpeg if jpeg else "")
        limit = cfg["%s_limit" % split]
        ensure_classification_db(fmt, inputs["data_root"], split, path, res=res, size=size,
                                 kernel=kernel, limit=limit, seed=cfg["seed"],
                                 jpeg_quality=jpeg, class_count=subset_class_count(cfg),
                                 **split_options(cfg))
        manifest = checked_db(path, size=size, kind="classification")
        warning = small_source_warning(manifest, vocab.backbone_spec(cfg["backbone"]).input_size,
                                       path)
        if warning and split == "train" and res == cfg["res"]:      # once per run
            print("[racnn] " + warning, file=sys.stderr, flush=True)
        out["paths"]["%s_db" % split if res != size else "hr_%s_db" % split] = path
        return path, manifest

    out["train_db"], train = classification("train", cfg["res"])
    out["test_db"], test = classification("test", cfg["res"])
    out.update(train_count=train["count"], test_count=test["count"],
               num_classes=train["num_classes"], class_names=train.get("class_names"))
    spec_classes = vocab.DATASETS[cfg["dataset"]].num_classes if vocab.committed_nets(
        cfg["backbone"], cfg["dataset"]) else None
    # (a --nets folder's nets are checked against the database by net_sources)
    if spec_classes and not cfg.get("nets") and train["num_classes"] != spec_classes:
        raise RacnnError(
            "database %s has %s classes, the committed %s nets in prototxt/%s/%s/ have %d "
            "outputs (a cut-down copy of the dataset?); train it as a custom dataset with "
            "generated nets instead: docker/run python3 tools/experiment.py my_%s %s --format "
            "%s --data-root %s (to edit its nets: docker/run python3 tools/make_nets.py "
            "--backbone %s --num-classes %s --name my_%s --out mynets/, then add --nets mynets/)"
            % (out["train_db"], train["num_classes"], cfg["dataset"], cfg["backbone"],
               cfg["dataset"], spec_classes, cfg["dataset"], cfg["backbone"], fmt,
               inputs["data_root"], cfg["backbone"], train["num_classes"], cfg["dataset"]))
    if test["num_classes"] != train["num_classes"]:
        raise RacnnError("%s and %s disagree on the number of classes (%s vs %s)"
                         % (out["train_db"], out["test_db"], train["num_classes"],
                            test["num_classes"]))
    if set(vocab.HR_STAGES) & set(plan):      # the stages that train on HR images
        out["hr_train_db"], _ = classification("train", size)
        out["hr_test_db"], _ = classification("test", size)
    if "stage1_sr" in plan:
        out["sr_db"], sr = sr_patches(cfg, inputs, fmt, root)
        out["sr_count"] = sr["count"]
        out["paths"]["sr_db"] = out["sr_db"]
    return out


def subset_class_count(cfg):
    """How many classes a run's cut-down databases (train_limit, test_limit:
    smoke) keep: as many as the smaller subset has images, so that each kept
    class has test images (the same classes in train and test); None for
    full databases."""
    limits = [n for n in (cfg["train_limit"], cfg["test_limit"]) if n]
    return min(limits) if limits else None


def split_options(cfg):
    """How the run's train/test splits are read (racnn.datasets.load)."""
    if not cfg.get("split_from"):
        return {}
    return {"split_from": cfg["split_from"], "test_fraction": cfg["test_fraction"],
            "split_seed": cfg["seed"]}


def sr_patches(cfg, inputs, fmt, root):
    """The stage-1 patch database: from ``sr_images`` (a folder of HR images,
    e.g. ImageNet DET as in the paper) or else the training images."""
    if cfg["sr_images"]:
        root = os.path.join(DATA_DIR, "lmdb", "sr-" + os.path.basename(cfg["sr_images"]))
    path = vocab.sr_db_path(cfg["sr_res"], cfg["sr_size"], cfg["sr_patch"], cfg["sr_stride"],
                            cfg["kernel"], root=root)
    if cfg["sr_max_images"] != DEFAULTS["sr_max_images"]:    # None: every image
        path += "_n%s" % (cfg["sr_max_images"] or "all")
    ensure_sr_patch_db(path, images=cfg["sr_images"], fmt=fmt, root=inputs["data_root"],
                          res=cfg["sr_res"], size=cfg["sr_size"], patch=cfg["sr_patch"],
                          stride=cfg["sr_stride"], kernel=cfg["kernel"],
                          max_images=cfg["sr_max_images"], seed=cfg["seed"],
                          **split_options(cfg))
    return path, checked_db(path, kind="sr_patches")
