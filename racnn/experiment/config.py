"""Experiments: the paper's two-stage schedule as one call per dataset and
backbone, with one configuration system and one resumable run folder.

Configuration
-------------
``DEFAULTS`` below is the only place with default values; ``SMOKE`` is the
set of overrides of ``--smoke``; ``make_config(dataset, backbone, **overrides)``
resolves them (command line > smoke > defaults) and checks every name.

The run folder this configuration trains into, file by file, is drawn once,
in docs/DESIGN.md ("Run folder"); ``run_name`` names it.  Each stage is a
separate ``caffe train`` process (racnn.experiment.caffe_train); each stage's
final model is handed to the next by path.  Re-running skips finished stages
and resumes an interrupted one from its newest .solverstate.

Iteration counts
----------------
``max_iter = ceil(epochs x training images / batch size)``.  With
``<stage>_epochs`` unset, a stage sees as many images as the release's
schedule (the committed solver's ``max_iter`` x the committed batch size: the
release trains 700k iterations of batch 8); the committed step positions are
scaled by the same factor.  ``iters`` (``--smoke``) fixes every stage's count.
"""
import collections
import copy
import json
import os

from .. import specs
from ..errors import RacnnError
from ..paths import RUNS_DIR

VARIANTS = ("cnn", "racnn_g", "racnn_p")
MODES = ("e2e", "frozen")
MULTS = ("paper", "release")
SR_WEIGHTS = ("pretrain", "authors")

DEFAULTS = collections.OrderedDict([
    # what is trained
    ("dataset", None), ("backbone", None),
    ("res", specs.DEFAULT_RES),      # the LR resolution r (r x r); docs/METHOD.md: 50 (25, 100)
    ("mode", "e2e"),                 # e2e (Sec. II-C, Fig. 4) | frozen (Table II)
    ("mults", "paper"),              # multiplier reading: paper text | release prototxts
    ("sr_weights", "pretrain"),      # p-RACNN's SR layers: our stage 1 | the authors' file
    ("variants", list(VARIANTS)),
    ("gpu", ""),                     # "" = CPU; Caffe's --gpu: 0 | 0,1 | all
    ("smoke", False),
    # data
    ("data_root", None),             # None: racnn.fetch's place for the dataset
    ("data_format", None),           # None: the dataset's official format (specs)
    ("db_size", None),               # stored image side; None: 227 (release), tiny: 72
    ("kernel", specs.DEFAULT_KERNEL),
    ("train_limit", None), ("test_limit", None),   # subsets (smoke)
    # initial weights
    ("backbone_weights", None),      # None: BVLC ImageNet model (tiny: "hr"); a path; "none"
    ("authors_sr_weights", None),    # None: racnn.fetch's rsrcnn_authors.caffemodel
    # stage 1 (docs/METHOD.md: 500 ImageNet DET images, 227, 50, 51x51 at stride 17)
    ("sr_images", None),             # folder of HR images; None: the training images
    ("sr_max_images", 500),
    ("sr_size", specs.SR_HR_SIZE), ("sr_res", specs.SR_LR_RES),
    ("sr_patch", specs.SR_PATCH), ("sr_stride", specs.SR_STRIDE),
    ("stage1_epochs", None), ("stage1_batch", None),
    # stage 2
    ("stage2_epochs", None), ("stage2_batch", None), ("test_batch", None),
    ("backbone_hr_epochs", 30.0),
    ("snapshots", 10),               # snapshots per stage (resume points, Fig. 5 curves)
    ("tests", 5),                    # in-solver test passes per stage (the log's curve)
    ("test_iter_max", None),         # cap on in-solver test batches
    ("iters", None),                 # fixed iteration count of every stage (smoke)
    ("seed", 1701),                  # solver random_seed and data shuffles
    ("solver", {}),                  # solver field overrides: {"stage1"|"stage2"|"backbone_hr": {field: value}}
])

#: ``--smoke``: a minutes-long end-to-end check of every stage
SMOKE = {"smoke": True, "iters": 4, "snapshots": 2, "tests": 1, "test_iter_max": 2,
         "train_limit": 48, "test_limit": 24, "sr_max_images": 8, "stage1_batch": 16,
         "stage2_batch": 8, "test_batch": 8}

#: keys that may change between attempts on one run folder
VOLATILE = ("gpu",)


def _choice(name, value, valid):
    if value not in valid:
        raise RacnnError("unknown %s %r; valid: %s" % (name, value, ", ".join(valid)))


def make_config(dataset, backbone, smoke=False, **overrides):
    """The resolved configuration: DEFAULTS < SMOKE (when ``smoke``) <
    ``overrides`` (None values are ignored); unknown keys and names fail."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise RacnnError("unknown configuration key(s) %s; valid: %s"
                         % (", ".join(unknown), ", ".join(DEFAULTS)))
    cfg = copy.deepcopy(DEFAULTS)
    if smoke:
        cfg.update(copy.deepcopy(SMOKE))
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    cfg["backbone"] = specs.backbone_spec(backbone).name
    if cfg["data_format"] is None:
        cfg["dataset"] = specs.dataset_spec(dataset).name     # lists the valid names
    else:
        cfg["dataset"] = str(dataset)
        if not cfg["data_root"]:
            raise RacnnError("a custom dataset (%s, format %s) needs --data-root"
                             % (dataset, cfg["data_format"]))
    _choice("mode (--mode)", cfg["mode"], MODES)
    _choice("multiplier reading (--mults)", cfg["mults"], MULTS)
    _choice("SR weights (--sr-weights)", cfg["sr_weights"], SR_WEIGHTS)
    for v in cfg["variants"]:
        _choice("variant", v, VARIANTS)
    cfg["res"] = int(cfg["res"])
    if cfg["db_size"] is None:
        cfg["db_size"] = 72 if cfg["backbone"] == "tiny" else specs.DEFAULT_DB_SIZE
    if cfg["backbone_weights"] is None and cfg["backbone"] == "tiny":
        cfg["backbone_weights"] = "hr"
    for key in ("data_root", "sr_images", "authors_sr_weights"):
        if cfg[key]:
            cfg[key] = os.path.abspath(cfg[key])
    if cfg["backbone_weights"] not in (None, "hr", "none"):
        cfg["backbone_weights"] = os.path.abspath(cfg["backbone_weights"])
    cfg["gpu"] = str(cfg["gpu"] or "")
    return cfg


def run_name(cfg):
    """``<dataset>-<backbone>-r<res>-<mode>-<mults>[-srauthors][-smoke]``."""
    name = "%s-%s-r%d-%s-%s" % (cfg["dataset"], cfg["backbone"], cfg["res"], cfg["mode"],
                                 cfg["mults"])
    if cfg["sr_weights"] == "authors":
        name += "-srauthors"
    return name + ("-smoke" if cfg["smoke"] else "")


def default_run_dir(cfg, runs_dir=None):
    return os.path.join(runs_dir or RUNS_DIR, run_name(cfg))


def stage_plan(cfg):
    """The stage folders a configuration trains, in order."""
    plan = []
    if cfg["backbone_weights"] == "hr":
        plan.append("backbone_hr")
    if "racnn_p" in cfg["variants"] and cfg["sr_weights"] == "pretrain":
        plan.append("stage1_sr")
    return plan + [v for v in VARIANTS if v in cfg["variants"]]


def dumps(cfg):
    return json.dumps(cfg, indent=1, sort_keys=True)
