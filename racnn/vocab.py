"""The package's vocabulary: every set of names and every per-name default,
defined once.  Every other module, the Makefile (``python3 -m racnn.vocab
make``) and the sweep grids derive their lists from here;
tests/test_vocab.py fails when a second literal list of these names appears
anywhere in racnn/, tools/, bench/ or the Makefile.

* datasets: the paper's three benchmarks, their class counts, split sizes,
  file formats and other accepted spellings;
* formats: the dataset adapters of racnn.datasets (named after the official
  distributions: the Cars devkit, CUB-200-2011, Oxford 102 Flowers, a
  folder per class);
* backbones: input size, stored image size, initial weights, the model-zoo
  resource of the ImageNet weights, batch sizes;
* modes, multiplier readings, SR weights, SR initialisations, kernels;
* variants (the networks a run trains) and stages (the folders of a run),
  their order, what each reads, and which solver defaults each takes;
* the database naming convention.
"""
import collections
import os
import sys

from .errors import RacnnError
from .paths import DATA_DIR

# --------------------------------------------------------------- datasets
DatasetSpec = collections.namedtuple(
    "DatasetSpec", "name num_classes file_format title train_count test_count aliases")

#: The paper's three benchmarks.  ``file_format``: the adapter
#: (racnn.datasets.<format>) that reads its official files; counts are the
#: paper's splits; ``aliases``: other accepted spellings of the name.
DATASETS = collections.OrderedDict((d.name, d) for d in [
    DatasetSpec("cars", 196, "cars", "Stanford Cars", 8144, 8041, ("stanford_cars",)),
    DatasetSpec("birds", 200, "cub", "CUB-200-2011", 5994, 5794,
                ("cub", "cub200", "cub_200_2011")),
    DatasetSpec("flowers", 102, "flowers", "Oxford 102 Flowers", 2040, 6149,
                ("oxford_flowers",)),
])
#: other accepted spellings of a dataset name -> the name
DATASET_ALIASES = {a: d.name for d in DATASETS.values() for a in d.aliases}

#: The dataset adapters, one module each in racnn.datasets: the official
#: file format of each benchmark, and ``folder`` (a folder per class, with
#: optional split lists) for any other set of images.
FORMATS = tuple(collections.OrderedDict.fromkeys(
    [d.file_format for d in DATASETS.values()] + ["folder"]))
#: other spellings of a format: each dataset's name and aliases (meaning its
#: format), and the demo's synthetic dataset (written as a folder tree)
FORMAT_ALIASES = dict(
    [(d.name, d.file_format) for d in DATASETS.values() if d.name != d.file_format]
    + [(a, d.file_format) for d in DATASETS.values() for a in d.aliases if a not in FORMATS],
    synthetic="folder")

# -------------------------------------------------------------- backbones
DEFAULT_DB_SIZE = 227     # the released MATLAB script resizes everything to 227x227
BackboneSpec = collections.namedtuple(
    "BackboneSpec", "name input_size title db_size weights zoo_weights train_batch "
    "test_batch paper")

#: Classification backbones.  ``db_size``: the side the databases store
#: images at (the release's MATLAB script: 227); ``weights``: the default
#: initial weights (None: the ImageNet model, racnn.fetch resource
#: ``zoo_weights``; "hr": the backbone trained on the undegraded images first,
#: for a backbone without ImageNet weights); batch sizes of the released
#: prototxts (train, test); ``paper``: one of the paper's backbones (committed
#: nets in prototxt/).  ``tiny`` is the small CPU-sized net of the demo.
BACKBONES = collections.OrderedDict((b.name, b) for b in [
    BackboneSpec("alexnet", 227, "AlexNet", DEFAULT_DB_SIZE, None, "bvlc_alexnet", 8, 2, True),
    BackboneSpec("vgg16", 224, "VGG-16", DEFAULT_DB_SIZE, None, "vgg16", 4, 2, True),
    BackboneSpec("googlenet", 224, "GoogLeNet", DEFAULT_DB_SIZE, None, "bvlc_googlenet", 8, 2,
                 True),
    BackboneSpec("tiny", 64, "Tiny (CPU demo)", 72, "hr", None, 32, 50, False),
])
PAPER_BACKBONES = tuple(b.name for b in BACKBONES.values() if b.paper)


def committed_nets(backbone, dataset):
    """Whether prototxt/ and solvers/ hold nets of this backbone and dataset
    (the paper's backbones on the paper's datasets)."""
    return backbone in PAPER_BACKBONES and dataset in DATASETS

# ----------------------------------------------------------- training knobs
#: ``e2e``: every layer learns (Sec. II-C, Fig. 4); ``frozen``: the
#: classification layers stay as loaded except the new last one (Table II)
MODES = ("e2e", "frozen")
#: the two readings of the paper's multipliers (docs/METHOD.md): the text's
#: per-layer pairs, or the release's two param blocks
READINGS = ("paper", "release")
#: where p-RACNN's SR layers come from: our stage 1, or the authors' file
SR_WEIGHTS = ("pretrain", "authors")
#: SR initialisation of a RACNN net: Gaussian (g) or pre-trained (p)
SR_INITS = ("g", "p")
#: racnn.fetch's resource of the authors' released SR weights (sr_weights "authors")
AUTHORS_SR_WEIGHTS = "rsrcnn_authors"
#: where g-RACNN's SR layers start (docs/METHOD.md, "Two SR initialisations"): the
#: Gaussian fillers (the paper's text), or the pre-trained SR weights copied in
#: after the ImageNet backbone, as the release's g-RACNN notebooks do
#: (``copy_from`` of the backbone, then of the SR model)
G_SR_INITS = ("gaussian", "pretrained")
#: how long stage 2 trains at the committed batch size (docs/METHOD.md, "Stage
#: 2"): the released solver's ``max_iter`` (700k), or the released notebooks'
#: loop of ``solver.step(1)``, which runs 1,000,000 iterations and never
#: reaches that ``max_iter`` (learning rate 1e-7 after 600k)
STAGE2_LENGTHS = ("solver", "notebooks")
NOTEBOOK_STAGE2_ITERS = 1000000
#: the settings whose default follows the multiplier reading: the paper's
#: text, or the authors' release (its prototxts and notebooks)
READING_DEFAULTS = {"paper": {"g_sr_init": "gaussian", "stage2_length": "solver"},
                    "release": {"g_sr_init": "pretrained", "stage2_length": "notebooks"}}
#: resize kernels of the degradation (racnn.resize.degrade)
KERNELS = ("matlab", "opencv", "pil")

DEFAULT_RES = 50          # the paper's default low resolution (r x r)
PAPER_RESOLUTIONS = (25, 50, 100)
DEFAULT_KERNEL = "matlab"

# Stage-1 SR pre-training data (docs/METHOD.md): HR 227x227, LR 50 -> 227, 51x51 patches, stride 17
SR_HR_SIZE = 227
SR_LR_RES = 50
SR_PATCH = 51
SR_STRIDE = 17

# ------------------------------------------------------ variants and stages
VariantSpec = collections.namedtuple("VariantSpec", "name title short about net stages default")

#: The networks a run can train (``variants``), in training order.  ``title``:
#: the paper's row title (``%s`` = the backbone); ``short``: a column title;
#: ``about``: what the network is, in a few words (generated files' headers);
#: ``net``: the committed net family it trains (prototxt/<backbone>/<dataset>/
#: <net>_<mode>_<reading>_train_val.prototxt); ``stages``: its stage folders;
#: ``default``: trained unless ``variants`` says otherwise.  ``staged`` is
#: Fig. 4's Staged-Training competitor (the paper's reference [35]): the CNN
#: fine-tuned on the HR images, then on the LR ones; it doubles the CNN's cost.
VARIANTS = collections.OrderedDict((v.name, v) for v in [
    VariantSpec("cnn", "%s", "CNN", "baseline CNN", "cnn", ("cnn",), True),
    VariantSpec("staged", "Staged-Training %s", "Staged", "Staged-Training (HR, then LR)", "cnn",
                ("staged_hr", "staged"), False),
    VariantSpec("racnn_g", "g-RACNN %s", "g-RACNN", "g-RACNN (Gaussian SR init)", "racnn_g",
                ("racnn_g",), True),
    VariantSpec("racnn_p", "p-RACNN %s", "p-RACNN", "p-RACNN (pre-trained SR layers)", "racnn_p",
                ("racnn_p",), True),
])
DEFAULT_VARIANTS = tuple(v.name for v in VARIANTS.values() if v.default)
#: the committed net families (cnn, racnn_g, racnn_p)
NETS = tuple(collections.OrderedDict.fromkeys(v.net for v in VARIANTS.values()))

StageSpec = collections.namedtuple("StageSpec", "name title reads images solver sr_init")

#: Every stage folder a run can have, in training order.  ``reads``: the
#: stages whose final model it may start from; which of them a stage of a
#: given run does start from is racnn.rundir.settings.stage_reads (those the
#: run trains; a stage that trains on ``sr`` patches only when the stage's SR
#: layers start from pre-trained weights: always for p-RACNN, for g-RACNN
#: with g_sr_init ``pretrained``); ``images``: what it trains on (``lr``
#: degraded, ``hr`` undegraded, ``sr`` stage-1 patches); ``solver``: the
#: solver defaults it takes (racnn.nets.solvers) and the key of its overrides
#: in the configuration's ``solver``; ``sr_init``: its net has the SR layers
#: (sconv1-3), initialised as g- or p-RACNN (SR_INITS), else None.
#: ``backbone_hr`` exists only in runs without ImageNet weights (the tiny
#: backbone): the stand-in for ImageNet pre-training.
STAGES = collections.OrderedDict((s.name, s) for s in [
    StageSpec("backbone_hr", "HR images (backbone)", (), "hr", "backbone_hr", None),
    StageSpec("stage1_sr", "stage 1: SR pre-training", (), "sr", "stage1", None),
    StageSpec("cnn", VARIANTS["cnn"].short, ("backbone_hr",), "lr", "stage2", None),
    StageSpec("staged_hr", "Staged: HR images", ("backbone_hr",), "hr", "stage2", None),
    StageSpec("staged", VARIANTS["staged"].short, ("staged_hr",), "lr", "stage2", None),
    StageSpec("racnn_g", VARIANTS["racnn_g"].short, ("backbone_hr", "stage1_sr"), "lr",
              "stage2", "g"),
    StageSpec("racnn_p", VARIANTS["racnn_p"].short, ("backbone_hr", "stage1_sr"), "lr",
              "stage2", "p"),
])
STAGE_ORDER = tuple(STAGES)
#: the solver defaults of racnn.nets.solvers, and the keys of the
#: configuration's ``solver`` overrides
SOLVERS = tuple(collections.OrderedDict.fromkeys(s.solver for s in STAGES.values()))
#: stages that train a classifier on the dataset's images (and are evaluated)
CLASSIFIER_STAGES = tuple(s.name for s in STAGES.values() if s.images in ("lr", "hr"))
#: stages trained on the undegraded images (they need the HR databases)
HR_STAGES = tuple(s.name for s in STAGES.values() if s.images == "hr")
#: stages whose nets have the SR layers
SR_STAGES = tuple(s.name for s in STAGES.values() if s.sr_init)
#: stages that train SR weights on patches (stage 1), which SR stages may start from
SR_SOURCE_STAGES = tuple(s.name for s in STAGES.values() if s.images == "sr")
#: stages trained with the stage-2 solver (their length: STAGE2_LENGTHS)
STAGE2_STAGES = tuple(s.name for s in STAGES.values() if s.solver == "stage2")


def stage_key(name):
    """Sort key of stage names: training order, other names after them by name."""
    return (STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER), name)


# ----------------------------------------------------------------- lookups
def _spec(table, name, what, aliases=None):
    key = str(name).lower()
    key = (aliases or {}).get(key, key)
    if key not in table:
        raise RacnnError("unknown %s %r; valid: %s" % (what, name, ", ".join(table)))
    return table[key]


def dataset_spec(name):
    """The DatasetSpec of a dataset name or alias; a clear error otherwise."""
    return _spec(DATASETS, name, "dataset", DATASET_ALIASES)


def backbone_spec(name):
    """The BackboneSpec of a backbone name; a clear error otherwise."""
    return _spec(BACKBONES, name, "backbone")


def variant_spec(name):
    """The VariantSpec of a variant name; a clear error otherwise."""
    return _spec(VARIANTS, name, "variant")


def choice(what, value, valid):
    """``value`` when it is one of ``valid``; a RacnnError naming ``what`` and
    the valid names otherwise."""
    if value not in valid:
        raise RacnnError("unknown %s %r; valid: %s" % (what, value, ", ".join(valid)))
    return value


# ------------------------------------------------------------ databases
def db_name(split, res, size=DEFAULT_DB_SIZE, kernel=DEFAULT_KERNEL):
    """Folder name of a classification database: ``<split>_r<res>_s<size>_<kernel>``."""
    return "%s_r%d_s%d_%s" % (split, int(res), int(size), kernel)


def db_path(dataset, split, res, size=DEFAULT_DB_SIZE, kernel=DEFAULT_KERNEL, root=None):
    """Default location of a classification database:
    ``data/lmdb/<dataset>/<split>_r<res>_s<size>_<kernel>``."""
    return os.path.join(root or os.path.join(DATA_DIR, "lmdb"), dataset,
                        db_name(split, res, size, kernel))


def sr_db_path(res=SR_LR_RES, size=SR_HR_SIZE, patch=SR_PATCH, stride=SR_STRIDE,
               kernel=DEFAULT_KERNEL, root=None):
    """Default location of the stage-1 SR patch database."""
    return os.path.join(root or os.path.join(DATA_DIR, "lmdb"), "sr_patches",
                        "r%d_s%d_p%d_st%d_%s" % (res, size, patch, stride, kernel))


# ------------------------------------------------------- for the Makefile
#: the lists the Makefile asks for (`python3 -m racnn.vocab make NAME`)
MAKE_LISTS = {"datasets": tuple(DATASETS), "backbones": PAPER_BACKBONES}


if __name__ == "__main__":
    # pure Python: runs with the host's python3, outside the Caffe environment
    if len(sys.argv) != 3 or sys.argv[1] != "make" or sys.argv[2] not in MAKE_LISTS:
        sys.exit("usage: python3 -m racnn.vocab make %s" % "|".join(MAKE_LISTS))
    print(" ".join(MAKE_LISTS[sys.argv[2]]))
