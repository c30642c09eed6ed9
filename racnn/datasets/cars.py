"""Stanford Cars in the layout of its official archives.

``root`` holds (the devkit files either in ``devkit/`` or in ``root``)::

    devkit/cars_meta.mat                  class_names (196)
    devkit/cars_train_annos.mat           bbox_x1, bbox_y1, bbox_x2, bbox_y2, class, fname
    cars_test_annos_withlabels.mat        the same for the test images
      (or devkit/cars_test_annos.mat plus test_labels.txt: '<fname> <class>')
    cars_train/<fname>.jpg
    cars_test/<fname>.jpg

Boxes and classes are 1-based with inclusive corners; a box becomes
``(x1 - 1, y1 - 1, x2, y2)`` (0-based, half-open) and a class ``c`` the
label ``c - 1``.
"""
import os

import numpy as np

from ..errors import RacnnError
from .base import Dataset, Sample, check_split, loadmat, read_lines, relative_path, require_file

LAYOUT = "    " + __doc__[__doc__.index("devkit/cars_meta"):__doc__.index("Boxes and")].rstrip()
SPLITS = ("train", "test")


def _find(root, name, required=True):
    return require_file(root, [name, os.path.join("devkit", name)], "cars", LAYOUT, required)


def _scalar(v):
    return np.asarray(v).ravel()[0]


def _annotations(path):
    mat = loadmat(path)
    if "annotations" not in mat:
        raise RacnnError("%s has no 'annotations' variable" % path)
    ann = mat["annotations"].ravel()
    fields = ann.dtype.names or ()
    for f in ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "fname"):
        if f not in fields:
            raise RacnnError("%s: annotations have no %r field (fields: %s)"
                             % (path, f, ", ".join(fields)))
    rows = []
    for a in ann:
        box = tuple(int(_scalar(a[f])) for f in ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"))
        cls = int(_scalar(a["class"])) if "class" in fields else None
        rows.append((str(_scalar(a["fname"])), box, cls))
    return rows


def class_names(root):
    meta = _find(root, "cars_meta.mat")
    mat = loadmat(meta)
    if "class_names" not in mat:
        raise RacnnError("%s has no 'class_names' variable" % meta)
    return [str(_scalar(n)) for n in mat["class_names"].ravel()]


def load(root, split, use_boxes=True):
    check_split(split, SPLITS, "cars")
    names = class_names(root)
    if split == "train":
        source = _find(root, "cars_train_annos.mat")
        rows = _annotations(source)
    else:
        with_labels = _find(root, "cars_test_annos_withlabels.mat", required=False)
        if with_labels:
            rows, source = _annotations(with_labels), with_labels
        else:
            annos = _find(root, "cars_test_annos.mat")
            labels_txt = _find(root, "test_labels.txt", required=False)
            if labels_txt is None:
                raise RacnnError(
                    "cars dataset at %s: the test labels are missing: put "
                    "cars_test_annos_withlabels.mat (or test_labels.txt) in %s or %s/devkit.\n"
                    "Expected layout:\n%s" % (root, root, root, LAYOUT))
            table = {}
            for lineno, line in read_lines(labels_txt):
                parts = line.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    raise RacnnError("%s line %d: expected '<fname> <class>', got %r"
                                     % (labels_txt, lineno, line))
                table[parts[0]] = int(parts[1])
            rows = []
            for fname, box, _ in _annotations(annos):
                if fname not in table:
                    raise RacnnError("%s: no class for test image %s" % (labels_txt, fname))
                rows.append((fname, box, table[fname]))
            source = labels_txt
    folder = os.path.join(root, "cars_%s" % split)
    samples = []
    for n, (fname, (x1, y1, x2, y2), cls) in enumerate(rows):
        if cls is None:
            raise RacnnError("%s has no 'class' field: use cars_test_annos_withlabels.mat" % source)
        if not 1 <= cls <= len(names):
            raise RacnnError("%s: image %s has class %d, outside 1..%d"
                             % (source, fname, cls, len(names)))
        box = (x1 - 1, y1 - 1, x2, y2) if use_boxes else None
        path = relative_path("%s, annotation %d" % (source, n + 1), fname, folder)  # not '..'
        samples.append(Sample(path, cls - 1, box,
                              os.path.splitext(fname)[0]))
    return Dataset("cars", "cars", root, split, samples, names,
                   LAYOUT)
