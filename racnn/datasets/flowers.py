"""Oxford 102 Flowers in its official layout.

``root`` holds::

    imagelabels.mat   labels: 1..102 for image ids 1..8189
    setid.mat         trnid, valid, tstid: image ids of each split
    jpg/image_XXXXX.jpg

Splits: ``train`` = trnid + valid (the paper trains on both: 2,040 images),
``trainonly`` = trnid, ``val`` = valid, ``test`` = tstid.  The official
files have no class names; they are ``class_001`` .. ``class_102`` in
label order (optionally replaced by a ``classes.txt``, one name a line).
No bounding boxes: the whole image is used.
"""
import os

import numpy as np

from ..errors import RacnnError
from .base import Dataset, Sample, check_split, loadmat, read_class_names, require_file

LAYOUT = "    " + __doc__[__doc__.index("imagelabels.mat"):__doc__.index("Splits:")].rstrip()
SPLITS = {"train": ("trnid", "valid"), "trainonly": ("trnid",), "val": ("valid",),
          "test": ("tstid",), "all": ("trnid", "valid", "tstid")}


def load(root, split, use_boxes=True):
    """``use_boxes`` is accepted like the other adapters' and ignored: there
    are no boxes."""
    check_split(split, tuple(SPLITS), "flowers")
    labels_path = require_file(root, "imagelabels.mat", "flowers", LAYOUT)
    setid_path = require_file(root, "setid.mat", "flowers", LAYOUT)
    mat = loadmat(labels_path)
    if "labels" not in mat:
        raise RacnnError("%s has no 'labels' variable" % labels_path)
    labels = np.asarray(mat["labels"]).ravel().astype(np.int64)
    setid = loadmat(setid_path)
    num_classes = int(labels.max())
    names_file, names = read_class_names(root)
    if names is None:
        names = ["class_%03d" % (i + 1) for i in range(num_classes)]
    elif len(names) != num_classes:
        raise RacnnError("%s has %d names but %s has %d classes"
                         % (names_file, len(names), labels_path, num_classes))
    samples = []
    for var in SPLITS[split]:
        if var not in setid:
            raise RacnnError("%s has no %r variable" % (setid_path, var))
        for image_id in np.asarray(setid[var]).ravel().astype(np.int64):
            if not 1 <= image_id <= len(labels):
                raise RacnnError("%s: %s lists image id %d but %s labels ids 1..%d"
                                 % (setid_path, var, image_id, labels_path, len(labels)))
            label = int(labels[image_id - 1])
            if label < 1:
                raise RacnnError("%s: image id %d has label %d (must be 1..%d)"
                                 % (labels_path, image_id, label, num_classes))
            path = os.path.join(root, "jpg", "image_%05d.jpg" % image_id)
            samples.append(Sample(path, label - 1, None, "%05d" % image_id))
    return Dataset("flowers", "flowers", root, split, samples, names,
                   LAYOUT)
