"""The names and numbers every part of the package agrees on: datasets,
backbones, resolutions and the database naming convention.  One place only;
import from here instead of repeating a constant."""
import collections
import os

from .errors import RacnnError
from .paths import DATA_DIR

DatasetSpec = collections.namedtuple(
    "DatasetSpec", "name num_classes fmt title train_count test_count")
BackboneSpec = collections.namedtuple("BackboneSpec", "name input_size title")

#: The paper's three benchmarks.  ``fmt`` is the adapter (official file format)
#: in racnn.datasets; counts are the paper's splits.
DATASETS = collections.OrderedDict([
    ("cars", DatasetSpec("cars", 196, "cars", "Stanford Cars", 8144, 8041)),
    ("birds", DatasetSpec("birds", 200, "cub", "CUB-200-2011", 5994, 5794)),
    ("flowers", DatasetSpec("flowers", 102, "flowers", "Oxford 102 Flowers", 2040, 6149)),
])
#: other accepted spellings of a dataset name
DATASET_ALIASES = {"cub": "birds", "cub200": "birds", "cub_200_2011": "birds", "stanford_cars": "cars",
                   "oxford_flowers": "flowers"}

#: Classification backbones; ``tiny`` is the small CPU-sized net of the demo.
BACKBONES = collections.OrderedDict([
    ("alexnet", BackboneSpec("alexnet", 227, "AlexNet")),
    ("vgg16", BackboneSpec("vgg16", 224, "VGG-16")),
    ("googlenet", BackboneSpec("googlenet", 224, "GoogLeNet")),
    ("tiny", BackboneSpec("tiny", 64, "Tiny (CPU demo)")),
])
PAPER_BACKBONES = ("alexnet", "vgg16", "googlenet")

DEFAULT_RES = 50          # the paper's default low resolution (r x r)
PAPER_RESOLUTIONS = (25, 50, 100)
DEFAULT_DB_SIZE = 227     # the released MATLAB script resizes everything to 227x227
DEFAULT_KERNEL = "matlab"
KERNELS = ("matlab", "opencv", "pil")

# Stage-1 SR pre-training data (docs/METHOD.md): HR 227x227, LR 50 -> 227, 51x51 patches, stride 17
SR_HR_SIZE = 227
SR_LR_RES = 50
SR_PATCH = 51
SR_STRIDE = 17


def dataset_spec(name):
    """The DatasetSpec of a dataset name or alias; a clear error otherwise."""
    key = DATASET_ALIASES.get(str(name).lower(), str(name).lower())
    if key not in DATASETS:
        raise RacnnError("unknown dataset %r; valid: %s" % (name, ", ".join(DATASETS)))
    return DATASETS[key]


def backbone_spec(name):
    """The BackboneSpec of a backbone name; a clear error otherwise."""
    key = str(name).lower()
    if key not in BACKBONES:
        raise RacnnError("unknown backbone %r; valid: %s" % (name, ", ".join(BACKBONES)))
    return BACKBONES[key]


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
