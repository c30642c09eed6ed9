"""A run's settings: the configuration a run folder is made with (its
``config.json`` holds them, with provenance beside), the folder's name, and
the stages it trains.  One configuration system for the whole package: the
experiment driver trains from it, the sweep plans with it, the report keys
results by it.

Configuration
-------------
``DEFAULTS`` below is the only place with default values (per-backbone and
per-name defaults come from racnn.vocab); ``SMOKE`` is the set of overrides
of ``--smoke``; ``make_config(dataset, backbone, **overrides)`` resolves them
(command line > smoke > defaults) and checks every name.

The run folder this configuration trains into, file by file, is drawn once,
in docs/DESIGN.md ("Run folder"); ``run_name`` names it.  Each stage is a
separate ``caffe train`` process (racnn.train.caffe_train); each stage's
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
import hashlib
import json
import os

from .. import vocab
from ..errors import RacnnError
from ..paths import RUNS_DIR

DEFAULTS = collections.OrderedDict([
    # what is trained
    ("dataset", None), ("backbone", None),
    ("res", vocab.DEFAULT_RES),      # the LR resolution r (r x r); docs/METHOD.md: 50 (25, 100)
    ("mode", "e2e"),                 # e2e (Sec. II-C, Fig. 4) | frozen (Table II)
    ("mults", "paper"),              # multiplier reading: paper text | release prototxts
    ("sr_weights", "pretrain"),      # p-RACNN's SR layers: our stage 1 | the authors' file
    ("g_sr_init", None),             # g-RACNN's SR layers: gaussian | pretrained (copied in
                                     # after the backbone, as the release's notebooks);
                                     # None: the reading's (vocab.READING_DEFAULTS)
    ("stage2_length", None),         # stage 2's release schedule: solver (max_iter 700k) |
                                     # notebooks (1M iterations); None: the reading's
    ("variants", list(vocab.DEFAULT_VARIANTS)),
    ("nets", None),                  # folder of the nets/solvers to train (tools/make_nets.py
                                     # --out); None: prototxt/ + solvers/, or generated
    ("restart", []),                 # stages to train afresh (--restart; their old files
                                     # go to <run>/superseded/)
    ("gpu", ""),                     # "" = CPU; Caffe's --gpu: 0 | 0,1 | all
    ("smoke", False),
    # data
    ("data_root", None),             # None: racnn.fetch's place for the dataset
    ("data_format", None),           # None: the dataset's official format (racnn.vocab)
    ("db_size", None),               # stored image side; None: the backbone's (vocab: 227)
    ("kernel", vocab.DEFAULT_KERNEL),
    ("train_limit", None), ("test_limit", None),   # subsets (smoke)
    ("split_from", None),            # None: the dataset's own train/test split; a split
                                     # name (folder: "all") to draw train/test from,
    ("test_fraction", 0.3),          # this fraction of each class for test (seeded)
    # initial weights
    ("backbone_weights", None),      # None: the backbone's default (vocab: the BVLC
                                     # ImageNet model; tiny: "hr"); a path; "hr"; "none"
    ("authors_sr_weights", None),    # None: racnn.fetch's rsrcnn_authors.caffemodel
    # stage 1 (docs/METHOD.md: 500 ImageNet DET images, 227, 50, 51x51 at stride 17)
    ("sr_images", None),             # folder of HR images; None: the training images
    ("sr_max_images", 500),          # a positive count; "all" / "none" / null: every image
    ("sr_size", vocab.SR_HR_SIZE), ("sr_res", vocab.SR_LR_RES),
    ("sr_patch", vocab.SR_PATCH), ("sr_stride", vocab.SR_STRIDE),
    ("stage1_epochs", None), ("stage1_batch", None),
    # stage 2
    ("stage2_epochs", None), ("stage2_batch", None), ("test_batch", None),
    ("backbone_hr_epochs", 30.0),
    ("snapshots", 10),               # snapshots per stage (resume points, Fig. 5 curves)
    ("tests", 5),                    # in-solver test passes per stage (the log's curve)
    ("test_iter_max", None),         # cap on in-solver test batches
    ("iters", None),                 # fixed iteration count of every stage (smoke)
    ("seed", 1701),                  # every random choice: solver random_seed, data
                                     # shuffles, SR patch sampling, new layers' fillers
    ("tf32", False),                 # GPU: cuBLAS/cuDNN may use TF32 tensor cores (faster,
                                     # 10-bit-mantissa products: not the faithful reading)
    ("cudnn", False),                # GPU: cuDNN 9 layers instead of Caffe's own (FP32)
    ("jpeg_quality", None),          # LR and HR images through a JPEG round trip (the
                                     # release's .jpg files, MATLAB's default 75); None: raw
    ("solver", {}),                  # solver field overrides: {"stage1"|"stage2"|"backbone_hr": {field: value}}
])

#: ``--smoke``: a minutes-long end-to-end check of every stage
SMOKE = {"smoke": True, "iters": 4, "snapshots": 2, "tests": 1, "test_iter_max": 2,
         "train_limit": 48, "test_limit": 24, "sr_max_images": 8, "stage1_batch": 16,
         "stage2_batch": 8, "test_batch": 8}

#: what a config.json written before a key existed ran with: the value it
#: stands for when the key is absent (racnn.rundir.verdict compares with it)
ABSENT = {"g_sr_init": "gaussian", "stage2_length": "solver"}

#: keys that may change between attempts on one run folder (a changed nets
#: folder is handled like an edit: the driver compares the sources' hashes)
VOLATILE = ("gpu", "restart", "nets")


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
    if "sr_max_images" in overrides:            # here None means "no limit", not "unset"
        cfg["sr_max_images"] = max_images(overrides["sr_max_images"])
    cfg["jpeg_quality"] = jpeg_quality(cfg["jpeg_quality"])
    cfg["test_fraction"] = test_fraction(cfg["test_fraction"])
    for key in ("tf32", "cudnn"):
        cfg[key] = switch(key, cfg[key])
    bb = vocab.backbone_spec(backbone)
    cfg["backbone"] = bb.name
    if cfg["data_format"] is None:
        cfg["dataset"] = vocab.dataset_spec(dataset).name     # lists the valid names
    else:
        cfg["dataset"] = str(dataset)
        if not cfg["data_root"]:
            raise RacnnError("a custom dataset (%s, format %s) needs --data-root"
                             % (dataset, cfg["data_format"]))
    vocab.choice("mode (--mode)", cfg["mode"], vocab.MODES)
    vocab.choice("multiplier reading (--mults)", cfg["mults"], vocab.READINGS)
    vocab.choice("SR weights (--sr-weights)", cfg["sr_weights"], vocab.SR_WEIGHTS)
    for key, valid in (("g_sr_init", vocab.G_SR_INITS), ("stage2_length", vocab.STAGE2_LENGTHS)):
        if cfg[key] is None:                    # the multiplier reading's
            cfg[key] = vocab.READING_DEFAULTS[cfg["mults"]][key]
        vocab.choice(key, cfg[key], valid)
    if isinstance(cfg["variants"], str):         # "cnn,racnn_p" (make VARIANTS=...)
        cfg["variants"] = [v.strip() for v in cfg["variants"].split(",") if v.strip()]
    for v in cfg["variants"]:
        vocab.choice("variant", v, vocab.VARIANTS)
    cfg["res"] = int(cfg["res"])
    if cfg["db_size"] is None:
        cfg["db_size"] = bb.db_size
    if cfg["backbone_weights"] is None:
        cfg["backbone_weights"] = bb.weights
    if isinstance(cfg["restart"], str):
        cfg["restart"] = [x.strip() for x in cfg["restart"].split(",") if x.strip()]
    for key in ("data_root", "sr_images", "authors_sr_weights", "nets"):
        if cfg[key]:
            cfg[key] = os.path.abspath(cfg[key])
    if cfg["backbone_weights"] not in (None, "hr", "none"):
        cfg["backbone_weights"] = os.path.abspath(cfg["backbone_weights"])
    cfg["gpu"] = str(cfg["gpu"] or "")
    return cfg


def _whole_number(value):
    """``value`` (a number or its text) as an int when it is a whole number,
    else None (3.5, "x", True)."""
    try:
        n = int(value)
        return None if isinstance(value, bool) or n != float(value) else n
    except (TypeError, ValueError):
        return None


def max_images(value):
    """``sr_max_images``: a positive count, or None for every image
    (``all``, ``none``, ``null``).  0 is an error, not "zero images"."""
    if value is None or (isinstance(value, str) and value.strip().lower() in
                         ("all", "none", "null", "")):
        return None
    count = _whole_number(value)
    if count is None:
        raise RacnnError("sr_max_images=%r: expected a positive number of images, or "
                         "all / none for every image" % (value,))
    if count < 1:
        raise RacnnError("sr_max_images=%r: expected a positive number of images (stage 1 "
                         "needs at least one), or all / none for every image" % (value,))
    return count


def jpeg_quality(value):
    """``jpeg_quality``: None (off) or a JPEG quality 1..100."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return None
    q = _whole_number(value)
    if q is None or not 1 <= q <= 100:
        raise RacnnError("jpeg_quality=%r: expected a JPEG quality 1..100 (75: MATLAB's "
                         "imwrite default, the release's), or none" % (value,))
    return q


def switch(key, value):
    """An on/off setting: True/False, 1/0 or their text (make TF32=1)."""
    if isinstance(value, str):
        value = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False,
                 "no": False, "off": False, "": False}.get(value.strip().lower(), value)
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    raise RacnnError("%s=%r: expected 1 / 0 (on / off)" % (key, value))


def gpu_env(cfg):
    """The environment variables the CUDA build of Caffe reads for the GPU
    speed options of ``cfg`` (docker/gpu/patches 03-05; docs/GPU.md)."""
    return {var: "1" for key, var in (("tf32", "RACNN_TF32"), ("cudnn", "RACNN_CUDNN"))
            if cfg.get(key)}


def test_fraction(value):
    """``test_fraction``: a number strictly between 0 and 1."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = None
    if f is None or isinstance(value, bool) or not 0 < f < 1:
        raise RacnnError("test_fraction=%r: expected a fraction of each class for the test "
                         "split, between 0 and 1 (e.g. 0.3)" % (value,))
    return f


def data_suffix(cfg):
    """``[-sub<train>x<test>][-from<split><percent>]``: the images a run's
    databases hold when not the dataset's own full splits."""
    out = ""
    if cfg.get("train_limit") or cfg.get("test_limit"):
        out += "-sub%sx%s" % (cfg.get("train_limit") or "all", cfg.get("test_limit") or "all")
    return out + split_suffix(cfg)


def split_suffix(cfg):
    """``-from<split><percent>`` for train/test drawn from one split, else ''."""
    if not cfg.get("split_from"):
        return ""
    return "-from%s%d" % (cfg["split_from"], int(round(100 * cfg["test_fraction"])))


def as_written(config):
    """A config.json's configuration with every key: those an older version
    did not write stand for what that version ran (``ABSENT``), the others
    for their defaults."""
    return dict(DEFAULTS, **dict(ABSENT, **config))


def parse_seeds(text):
    """``--seeds 1,2,3`` (tools/experiment.py, tools/sweep.py; make SEEDS=):
    distinct whole numbers, in order."""
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        seeds = None
    if not seeds or len(set(seeds)) != len(seeds):
        raise RacnnError("--seeds %r: expected distinct whole numbers separated by commas, "
                         "e.g. 1,2,3" % text)
    return seeds


def run_name(cfg):
    """``<dataset>-<backbone>-r<res>-<mode>-<mults>[-srauthors][-sr<images>[_n<count>]]
    [-gsr][-it1m][-seed<N>][-jpeg<q>][-cudnn][-tf32][-bw<weights>][-s<db_size>]
    [-from<split><percent>][-smoke]``: ``-sr<images>`` the folder stage 1 trains
    on, ``_n<count>`` how many of its images when not the default sample (stage
    1 on the training images: not named; the report's cells say it);
    ``-gsr``, ``-it1m`` say that g-RACNN started from pre-trained SR weights
    and that stage 2 trains the notebooks' 1M iterations (the release
    reading's defaults), whichever the reading."""
    name = "%s-%s-r%d-%s-%s" % (cfg["dataset"], cfg["backbone"], cfg["res"], cfg["mode"],
                                 cfg["mults"])
    if cfg["sr_weights"] == "authors":
        name += "-srauthors"
    elif cfg.get("sr_images"):          # stage 1 on other images than the training images
        name += "-sr" + "".join(c if c.isalnum() or c in "._" else "_" for c in
                                os.path.basename(os.path.normpath(cfg["sr_images"])))[:40]
        # how many of them, when not the default sample (the release's script: 500 of the
        # 11,142 DET test images, the paper all of them): as the patch database says it
        count = cfg.get("sr_max_images", DEFAULTS["sr_max_images"])
        if count != (SMOKE if cfg.get("smoke") else DEFAULTS)["sr_max_images"]:
            name += "_n%s" % ("all" if count is None else count)
    if cfg.get("g_sr_init", ABSENT["g_sr_init"]) == "pretrained":
        name += "-gsr"
    if cfg.get("stage2_length", ABSENT["stage2_length"]) == "notebooks":
        name += "-it1m"
    if cfg.get("seed", DEFAULTS["seed"]) != DEFAULTS["seed"]:
        name += "-seed%s" % cfg["seed"]
    if cfg.get("jpeg_quality"):
        name += "-jpeg%d" % cfg["jpeg_quality"]
    name += "".join("-" + key for key in ("cudnn", "tf32") if cfg.get(key))
    name += settings_suffix(cfg)
    name += split_suffix(cfg)            # (smoke's subsets are said by -smoke)
    return name + ("-smoke" if cfg["smoke"] else "")


def settings_suffix(cfg):
    """``[-bw<weights>][-s<db_size>]``: initial backbone weights and stored
    image size when they differ from the backbone's defaults (racnn.vocab:
    the BVLC ImageNet model, tiny: "hr"; 227, tiny: 72), so that two settings
    never share a run folder name; default runs keep their names."""
    default_bw, default_size = backbone_defaults(cfg.get("backbone"))
    out = ""
    bw = cfg.get("backbone_weights")
    if bw != default_bw:
        if bw in (None, "hr", "none"):
            out += "-bw%s" % (bw or "imagenet")
        else:       # a file: its name, and a short hash of its path for two same names
            stem = os.path.splitext(os.path.basename(bw))[0]
            stem = "".join(c if c.isalnum() or c in "._" else "_" for c in stem)[:40]
            out += "-bw%s.%s" % (stem, hashlib.sha1(bw.encode()).hexdigest()[:6])
    if cfg.get("db_size") is not None and int(cfg["db_size"]) != default_size:
        out += "-s%d" % int(cfg["db_size"])
    return out


def backbone_defaults(backbone):
    """(initial weights, stored size) a run of ``backbone`` has by default;
    a backbone racnn.vocab does not know gets the paper backbones'."""
    spec = vocab.BACKBONES.get(backbone)
    return (spec.weights, spec.db_size) if spec else (None, vocab.DEFAULT_DB_SIZE)


def default_run_dir(cfg, runs_dir=None):
    return os.path.join(runs_dir or RUNS_DIR, run_name(cfg))


def sr_start(cfg, name):
    """Where stage ``name``'s SR layers start: ``pretrained`` (p-RACNN; g-RACNN
    with g_sr_init pretrained: the SR weights of ``sr_weights``, our stage 1
    or the authors' file), ``gaussian`` (the fillers), or None (no SR layers)."""
    init = vocab.STAGES[name].sr_init if name in vocab.STAGES else None
    if init is None:
        return None
    if init == "p" or cfg.get("g_sr_init", ABSENT["g_sr_init"]) == "pretrained":
        return "pretrained"
    return "gaussian"


def stage_plan(cfg):
    """The stage folders a configuration trains, in order: its variants'
    stages, after ``backbone_hr`` (backbone weights "hr") and stage 1 (when a
    stage's SR layers start from pre-trained weights and those are ours)."""
    stages = [s for v in vocab.VARIANTS.values() if v.name in cfg["variants"] for s in v.stages]
    plan = ["backbone_hr"] if cfg["backbone_weights"] == "hr" else []
    if cfg["sr_weights"] == "pretrain" and any(sr_start(cfg, s) == "pretrained" for s in stages):
        plan += list(vocab.SR_SOURCE_STAGES)
    return plan + stages


def stage_reads(cfg, name, plan=None):
    """The stages of the run ``cfg`` whose final model stage ``name`` starts
    from: racnn.vocab's ``reads`` that the run trains, stage 1 only when the
    stage's SR layers start from pre-trained weights."""
    plan = stage_plan(cfg) if plan is None else plan
    reads = vocab.STAGES[name].reads if name in vocab.STAGES else ()
    return [r for r in reads if r in plan and
            (r not in vocab.SR_SOURCE_STAGES or sr_start(cfg, name) == "pretrained")]


def stage_dependents(cfg, name, plan=None):
    """The stages of the run ``cfg`` that read ``name``'s final model, directly
    or through another stage, in training order: restarting ``name`` makes
    them stale."""
    plan = stage_plan(cfg) if plan is None else plan
    out = []
    for stage in plan:
        if any(r == name or r in out for r in stage_reads(cfg, stage, plan)):
            out.append(stage)
    return tuple(out)


def dumps(cfg):
    return json.dumps(cfg, indent=1, sort_keys=True)
