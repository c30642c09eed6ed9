"""The dataset model every adapter returns, and the helpers adapters share.

``load(fmt, root, split)`` returns a :class:`Dataset` whose ``samples`` are
:class:`Sample` tuples ``(path, label, box, id)``:

* ``path``: absolute path of the image file;
* ``label``: 0-based class index, in the order of ``class_names``, which
  comes from the official files (never from directory listing order);
* ``box``: ``(x0, y0, x1, y1)`` in 0-based pixel coordinates, half-open
  (the crop is ``img[y0:y1, x0:x1]``), or None for the whole image;
* ``id``: a short stable identifier (official image id or relative path).

Formats (racnn.vocab.FORMATS, one module each): ``cars`` (Stanford Cars
devkit), ``cub`` (CUB-200-2011; alias ``birds``), ``flowers`` (Oxford 102
Flowers; training = trnid + valid as in the paper; ``train``/``val``/
``trainval``/``test`` available), ``folder`` (folder-per-class with optional
split lists; also reads what ``racnn.datasets.synthetic`` writes).
"""
import collections
import hashlib
import importlib
import os

import numpy as np

from .. import vocab
from ..errors import RacnnError

Sample = collections.namedtuple("Sample", "path label box id")


class Dataset(object):
    """The samples of one split of a dataset and its class names.

    ``name`` is the dataset name used for database paths (``cars``,
    ``birds``, ``flowers`` or the folder's name)."""

    def __init__(self, name, fmt, root, split, samples, class_names, layout=None):
        self.name = name
        self.layout = layout
        self.fmt = fmt
        self.root = os.path.abspath(root)
        self.split = split
        self.samples = list(samples)
        self.class_names = list(class_names)
        #: {split_from, test_fraction, seed} for a split drawn by derive_split
        self.derived_from = None
        self._check()

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        return "<Dataset %s %s: %d samples, %d classes, root %s>" % (
            self.name, self.split, len(self.samples), self.num_classes, self.root)

    def _check(self):
        if not self.samples:
            raise RacnnError("%s dataset at %s: the %r split has no images"
                             % (self.fmt, self.root, self.split))
        n = self.num_classes
        for s in self.samples:
            if not (0 <= s.label < n):
                raise RacnnError("%s dataset at %s: image %s has label %d, outside 0..%d "
                                 "(%d classes)" % (self.fmt, self.root, s.path, s.label, n - 1, n))
            if s.box is not None:
                x0, y0, x1, y1 = s.box
                if not (x1 > x0 and y1 > y0):
                    raise RacnnError("%s dataset at %s: image %s has an empty bounding box %r"
                                     % (self.fmt, self.root, s.path, s.box))

    def label_range(self):
        labels = [s.label for s in self.samples]
        return min(labels), max(labels)

    def source_hash(self):
        """sha256 over (relative path, label, box) of every sample in order:
        identifies the source list a database was made from."""
        h = hashlib.sha256()
        for s in self.samples:
            rel = os.path.relpath(s.path, self.root)
            h.update(("%s\t%d\t%r\n" % (rel, s.label, s.box)).encode("utf-8"))
        return h.hexdigest()

    def check_files(self, limit=5):
        """Raise a RacnnError listing (the first ``limit``) missing images."""
        missing = [s.path for s in self.samples if not os.path.isfile(s.path)]
        if missing:
            raise RacnnError("%s dataset at %s: %d of %d images of the %r split are missing, "
                             "e.g. %s%s%s" % (self.fmt, self.root, len(missing),
                                              len(self.samples), self.split,
                                              ", ".join(missing[:limit]),
                                              dangling_link_note(missing[0], self.root),
                                              "\nExpected layout:\n" + self.layout
                                              if self.layout else ""))


def dangling_link_note(path, root):
    """When ``path`` is missing because a symbolic link on its way (at or
    below ``root``) points to a place that is not there, one sentence saying
    so: the files may well exist on the host while this environment cannot
    see them."""
    d = os.path.abspath(path)
    root = os.path.abspath(root)
    while True:
        if os.path.islink(d) and not os.path.exists(d):
            return ("\n%s is a symbolic link to %s, which does not exist here: if the images "
                    "are there on the host, this environment cannot see them (docker/run mounts "
                    "the targets of links under data/ and under the folders named on its command "
                    "line; give --data-root the real folder, or run docker/run again from the "
                    "checkout)" % (d, os.readlink(d)))
        if d == root or os.path.dirname(d) == d:
            return ""
        d = os.path.dirname(d)


def canonical_format(fmt):
    key = str(fmt).lower()
    key = vocab.FORMAT_ALIASES.get(key, key)
    if key not in vocab.FORMATS:
        raise RacnnError("unknown dataset format %r; valid: %s (aliases: %s)" % (
            fmt, ", ".join(vocab.FORMATS), ", ".join(sorted(vocab.FORMAT_ALIASES))))
    return key


def load(fmt, root, split, check_files=True, split_from=None, test_fraction=None, seed=0,
         **opts):
    """Load ``split`` of the dataset in format ``fmt`` found at ``root``.

    With ``check_files`` (default) every image must exist; otherwise only
    the metadata files are read.  With ``split_from`` (e.g. ``all``: a plain
    folder-per-class tree), ``train`` and ``test`` are drawn from that split
    instead: ``test_fraction`` of each class's images (seeded by ``seed``)
    for test, the rest for train (``derive_split``).  Extra ``opts`` go to
    the adapter; every adapter takes ``use_boxes`` (default True: crop to the
    official boxes; ignored by ``flowers`` and ``folder``, which have none)."""
    key = canonical_format(fmt)
    if not os.path.isdir(root):
        raise RacnnError("%s dataset: folder %s does not exist" % (key, root))
    # the adapter of format F is racnn.datasets.F (imported when used)
    module = importlib.import_module("." + key, __package__)
    if split_from:
        ds = derive_split(module.load(os.path.abspath(root), split_from, **opts), split,
                          test_fraction, seed)
    else:
        ds = module.load(os.path.abspath(root), split, **opts)
    if check_files:
        ds.check_files()
    return ds


def derive_split(whole, split, test_fraction, seed=0):
    """The ``train`` or ``test`` part of the Dataset ``whole``, stratified by
    class: of each class's images (in a seeded order), ``test_fraction``
    rounded (at least one when the class has two or more) go to test, the
    others to train, so every class is in both when it can be."""
    if split not in ("train", "test"):
        raise RacnnError("a split drawn from %r is train or test, not %r" % (whole.split, split))
    fraction = float(test_fraction if test_fraction is not None else 0.3)
    if not 0 < fraction < 1:
        raise RacnnError("test_fraction must be between 0 and 1 (exclusive), got %r"
                         % (test_fraction,))
    rng = np.random.RandomState(seed)
    by_class = collections.OrderedDict()
    for s in whole.samples:
        by_class.setdefault(s.label, []).append(s)
    picked = set()
    for label in sorted(by_class):
        items = [by_class[label][i] for i in rng.permutation(len(by_class[label]))]
        n_test = int(round(fraction * len(items)))
        if len(items) >= 2:
            n_test = min(max(n_test, 1), len(items) - 1)
        picked.update(s.path for s in (items[:n_test] if split == "test" else items[n_test:]))
    picked = [s for s in whole.samples if s.path in picked]     # in the dataset's own order
    ds = Dataset(whole.name, whole.fmt, whole.root, split, picked, whole.class_names,
                 whole.layout)
    ds.derived_from = {"split_from": whole.split, "test_fraction": fraction, "seed": int(seed)}
    return ds


def require_file(root, names, fmt, layout, required=True):
    """The first of ``names`` (relative to ``root``) that exists; when none
    does, a RacnnError naming the file and the expected ``layout`` (or None
    when not ``required``)."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    if not required:
        return None
    raise RacnnError("%s dataset at %s: missing %s.\nExpected layout:\n%s"
                     % (fmt, root, " or ".join(names), layout))


def loadmat(path):
    """The variables of a MATLAB .mat file (scipy.io.loadmat), or a
    RacnnError naming the file it cannot read."""
    import scipy.io
    try:
        return scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises several types for bad files
        raise RacnnError("cannot read %s: %s" % (path, exc))


def read_lines(path):
    """Non-empty, stripped lines of a text file, with their 1-based numbers."""
    with open(path, encoding="utf-8") as fh:
        return [(i + 1, line.strip()) for i, line in enumerate(fh) if line.strip()]


def read_class_names(root):
    """``(path, names)`` of the optional ``root/classes.txt`` (one class name
    a line, in label order); ``names`` is None when there is no such file."""
    path = os.path.join(root, "classes.txt")
    return path, [line for _, line in read_lines(path)] if os.path.isfile(path) else None


def check_split(split, valid, fmt):
    if split not in valid:
        raise RacnnError("%s dataset: unknown split %r; valid: %s" % (fmt, split, ", ".join(valid)))
    return split


def relative_path(where, rel, root):
    """``root/rel`` for a path read from a metadata file, or a RacnnError
    naming ``where`` (the file and line) when ``rel`` is absolute or climbs
    out of ``root`` with ``..``: a list must not make a builder read
    ``../../../etc/hostname``."""
    parts = str(rel).replace("\\", "/").split("/")
    if os.path.isabs(rel) or ".." in parts or (len(rel) > 1 and rel[1] == ":"):
        raise RacnnError("%s: paths must be relative to %s (no '..', not absolute), got %r"
                         % (where, root, rel))
    return os.path.join(root, rel)


