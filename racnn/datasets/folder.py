"""A generic folder-per-class dataset (also what ``synthetic`` writes).

Accepted layouts, tried in this order for a split ``S``:

1. ``root/S.txt``: a split list, one image a line, path relative to
   ``root``; either ``<path>`` (the class is the path's first folder) or
   ``<path> <label>`` (0-based label, as Caffe's ``convert_imageset`` lists);
2. ``root/S/<class>/<image>``: one folder per split;
3. ``root/<class>/<image>`` with split ``all`` (no split information).

Class order: ``root/classes.txt`` (one name a line) when present, else the
class folder names sorted by name (never directory listing order).
"""
import os

from ..errors import RacnnError
from .base import Dataset, Sample, read_class_names, read_lines, relative_path
from .images import image_files

LAYOUT = """    classes.txt             (optional) class names in label order
    train.txt, test.txt     (optional) relative image paths [+ 0-based label]
    <class>/<image>.jpg     or train/<class>/<image>.jpg, test/<class>/<image>.jpg"""


def _class_dirs(folder):
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))


def load(root, split, use_boxes=True):
    """``use_boxes`` is accepted like the other adapters' and ignored: there
    are no boxes."""
    root = os.path.abspath(root)
    names_file, names = read_class_names(root)
    if names is not None and len(set(names)) != len(names):
        raise RacnnError("%s lists a class name twice" % names_file)
    list_file = os.path.join(root, split + ".txt")
    entries = []   # (path, class name or None, label or None, id)
    if os.path.isfile(list_file):
        first = {}     # normalised path -> line: an image listed twice is refused
        for lineno, line in read_lines(list_file):
            parts = line.rsplit(None, 1)
            label = None
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                rel, label = parts[0], int(parts[1])
            else:
                rel = line
            path = relative_path("%s line %d" % (list_file, lineno), rel, root)
            norm = os.path.normpath(path)
            if norm in first:
                raise RacnnError("%s line %d: %s is listed again (first at line %d); each "
                                 "image must appear once, or it is in the database twice"
                                 % (list_file, lineno, rel, first[norm]))
            first[norm] = lineno
            cls = rel.replace("\\", "/").split("/")[0] if "/" in rel.replace("\\", "/") else None
            if label is None and cls is None:
                raise RacnnError("%s line %d: %r has neither a class folder nor a label"
                                 % (list_file, lineno, line))
            entries.append((path, cls, label, rel))
        class_source = None
        if names is None:
            if any(e[2] is not None for e in entries):
                raise RacnnError("%s has numeric labels: put the class names in %s"
                                 % (list_file, names_file))
            names = sorted(set(e[1] for e in entries))
    else:
        base = os.path.join(root, split)
        if not os.path.isdir(base):
            if split != "all":
                raise RacnnError("folder dataset at %s: no split list %s and no folder %s; for a "
                                 "plain folder-per-class tree, draw train and test from all of "
                                 "it: tools/experiment.py ... --split-from all --test-fraction "
                                 "0.3 (make ... SPLIT_FROM=all TEST_FRACTION=0.3; "
                                 "tools/build_lmdb.py --split all).\n"
                                 "Expected layout:\n%s" % (root, list_file, base, LAYOUT))
            base = root
        class_source = base
        if names is None:
            # the union over all split folders, so train and test agree
            splits = [d for d in ("train", "val", "test") if os.path.isdir(os.path.join(root, d))]
            found = set()
            for d in (splits if base != root else ["."]):
                found.update(_class_dirs(os.path.join(root, d)))
            names = sorted(found)
        for cls in _class_dirs(base):
            for path in image_files(os.path.join(base, cls)):
                entries.append((path, cls, None, os.path.relpath(path, root)))
    if not names:
        raise RacnnError("folder dataset at %s: no classes found.\nExpected layout:\n%s"
                         % (root, LAYOUT))
    index = {n: i for i, n in enumerate(names)}
    samples = []
    for path, cls, label, ident in entries:
        if label is None:
            if cls not in index:
                raise RacnnError("folder dataset at %s: image %s is in folder %r, which is not "
                                 "a class of %s" % (root, path, cls, names_file if os.path.isfile(
                                     names_file) else class_source or root))
            label = index[cls]
        samples.append(Sample(path, label, None, ident))
    name = os.path.basename(root.rstrip(os.sep)) or "folder"
    return Dataset(name, "folder", root, split, samples, names,
                   LAYOUT)
