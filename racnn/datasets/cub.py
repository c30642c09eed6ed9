"""CUB-200-2011 (Caltech-UCSD Birds) in its official layout.

``root`` is the ``CUB_200_2011`` folder (or the folder holding it)::

    images.txt              <image_id> <relative path under images/>
    image_class_labels.txt  <image_id> <class_id, 1-based>
    train_test_split.txt    <image_id> <1 = training, 0 = test>
    bounding_boxes.txt      <image_id> <x> <y> <width> <height>  (pixels)
    classes.txt             <class_id> <class name>
    images/<class>/<file>.jpg

Boxes are read as 0-based top-left corner plus size:
``(x, y, x + width, y + height)`` rounded to whole pixels.
"""
import math
import os

from ..errors import RacnnError
from .base import Dataset, Sample, check_split, read_lines, relative_path, require_file

LAYOUT = "    " + __doc__[__doc__.index("images.txt"):__doc__.index("Boxes are")].rstrip()
SPLITS = ("train", "test", "all")


def find_root(root):
    sub = os.path.join(root, "CUB_200_2011")
    if not os.path.isfile(os.path.join(root, "images.txt")) and os.path.isdir(sub):
        return sub
    return root


def _table(path, ncols, conv):
    """{image id: tuple of ncols converted fields} of a CUB metadata file,
    and {image id: line number}; numbers must be finite (a box of ``nan``
    cannot be rounded to pixels)."""
    out, where = {}, {}
    for lineno, line in read_lines(path):
        parts = line.split()
        if len(parts) != ncols + 1:
            raise RacnnError("%s line %d: expected %d fields, got %r"
                             % (path, lineno, ncols + 1, line))
        try:
            key = int(parts[0])
            vals = tuple(c(p) for c, p in zip(conv, parts[1:]))
        except ValueError:
            raise RacnnError("%s line %d: cannot parse %r" % (path, lineno, line))
        if any(isinstance(v, float) and not math.isfinite(v) for v in vals):
            raise RacnnError("%s line %d: numbers must be finite, got %r" % (path, lineno, line))
        if key in out:
            raise RacnnError("%s line %d: image id %d appears twice" % (path, lineno, key))
        out[key], where[key] = vals, lineno
    return out, where


def load(root, split, use_boxes=True):
    check_split(split, SPLITS, "cub")
    root = find_root(root)
    files = {name: require_file(root, name + ".txt", "cub", LAYOUT)
             for name in ("images", "image_class_labels", "train_test_split",
                          "bounding_boxes", "classes")}
    classes = []
    for lineno, line in read_lines(files["classes"]):
        parts = line.split(None, 1)
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != len(classes) + 1:
            raise RacnnError("%s line %d: expected '<class id> <name>' with ids 1, 2, ... in "
                             "order, got %r" % (files["classes"], lineno, line))
        classes.append(parts[1])
    images, image_lines = _table(files["images"], 1, (str,))
    labels = _table(files["image_class_labels"], 1, (int,))[0]
    is_train = _table(files["train_test_split"], 1, (int,))[0]
    boxes = _table(files["bounding_boxes"], 4, (float,) * 4)[0]
    samples = []
    for image_id in sorted(images):
        for name, table in (("image_class_labels", labels), ("train_test_split", is_train)):
            if image_id not in table:
                raise RacnnError("%s: no entry for image id %d" % (files[name], image_id))
        if split != "all" and (is_train[image_id][0] == 1) != (split == "train"):
            continue
        label = labels[image_id][0]
        if not 1 <= label <= len(classes):
            raise RacnnError("%s: image id %d has class %d, outside 1..%d"
                             % (files["image_class_labels"], image_id, label, len(classes)))
        box = None
        if use_boxes:
            if image_id not in boxes:
                raise RacnnError("%s: no box for image id %d" % (files["bounding_boxes"], image_id))
            x, y, w, h = boxes[image_id]
            box = (int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h)))
        path = relative_path("%s line %d" % (files["images"], image_lines[image_id]),
                             images[image_id][0], os.path.join(root, "images"))
        samples.append(Sample(path, label - 1, box, str(image_id)))
    return Dataset("birds", "cub", root, split, samples, classes,
                   LAYOUT)
