"""Building classification databases from datasets: decode, crop to the box,
degrade (``racnn.resize.degrade``), serialise, write (``racnn.db.lmdbio``).

Decoding and resizing run in worker processes (one per core by default) in
a streaming pipeline (``racnn.db.pool``): samples go out in chunks, at most a
few chunks are in flight, the Datums come back in order through shared
memory and are written at once, so memory stays bounded whatever the
dataset size.  Import these through ``racnn.db``.
"""
import collections
import functools
import os

import numpy as np

from .. import datasets as datasets_mod
from .. import locks, vocab
from ..resize.degrade import channel_order_free, check_kernel, degrade, prepare
from ..errors import RacnnError
from .datum import datum_bytes
from .lmdbio import write_datums
from .manifest import UPSCALE_FACTOR, existing_manifest, matches
from .pool import ordered_map

# ----------------------------------------------------- classification items --

def jpeg_round_trip(hwc, quality):
    """``hwc`` (HxWx3 uint8, BGR) encoded as a JPEG at ``quality`` and decoded
    again (OpenCV, as Caffe reads image files): what the release's LR images
    were, since its data script writes them with MATLAB's imwrite to .jpg
    names (quality 75 by default) before Caffe reads them."""
    import cv2      # deferred: only this option needs OpenCV here
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(hwc),
                            [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RacnnError("OpenCV could not encode a %s image as JPEG" % (hwc.shape,))
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def process_sample(sample, res, size, kernel, encoded=False, skip_bad=False,
                   jpeg_quality=None):
    """The serialised Datum of one sample: ``("ok", bytes, label, id, clipped,
    (height, width))`` (the source image's size, after its box) or, with
    ``skip_bad``, ``("bad", message)`` for an unreadable image."""
    # decoded as RGB and reversed at the end (saves a colour conversion)
    # when the kernel is channel-order free; BGR otherwise (float32 BLAS
    # rounds a value near a tie according to its place in memory, and the
    # database must be bit-identical to degrade(read_image(path)))
    rgb = channel_order_free(kernel)
    try:
        img, clipped = datasets_mod.read_sample(sample, rgb=rgb)
    except RacnnError as exc:
        if skip_bad:
            return ("bad", str(exc))
        raise
    chw = degrade(img, res, size, kernel, layout="CHW", reverse_channels=rgb)
    if jpeg_quality:            # off by default: raw pixels
        chw = jpeg_round_trip(chw.transpose(1, 2, 0), jpeg_quality).transpose(2, 0, 1)
    value = datum_bytes(chw.transpose(1, 2, 0), sample.label, encoded)   # raw: chw as it is
    return ("ok", value, sample.label, sample.id, clipped, tuple(img.shape[:2]))


class Tally(object):
    """What a build skipped (unreadable images, with ``skip_bad``) and how
    many boxes it clipped, from results ``("ok", ..., clipped)`` or
    ``("bad", message)``; with ``sized``, ok results end with the source
    image's ``(height, width)`` after ``clipped``, and the manifest records
    the range of their shorter sides (issue 15, item 7: a 64-pixel source
    stored at 227 is an upscaled image, not a high-resolution one)."""

    def __init__(self, sized=False, size=None):
        self.skipped, self.clipped = [], 0
        self.sized, self.sides, self.size = sized, [], size

    def ok(self, results):
        """``(position, payload)`` of every ok result (payload: the fields
        between the tag and ``clipped``), counting the others."""
        for i, r in enumerate(results):
            if r[0] == "bad":
                self.skipped.append(r[1])
                continue
            if self.sized:
                self.sides.append(min(r[-1]))
                r = r[:-1]
            self.clipped += int(r[-1])
            yield i, r[1:-1]

    def fields(self):
        """The manifest fields, known once every result has been seen."""
        out = {"skipped_bad": len(self.skipped), "skipped_files": self.skipped[:100],
               "clipped_boxes": self.clipped}
        if self.sized and self.sides:
            out["source_sides"] = [min(self.sides), max(self.sides)]
            out["source_smaller"] = {str(s): sum(1 for x in self.sides if x < s)
                                     for s in sorted(set(SIDE_MARKS))}
            if self.size:       # upscaled more than UPSCALE_FACTOR to the stored size
                out["source_upscaled"] = sum(1 for x in self.sides
                                             if x < self.size / UPSCALE_FACTOR)
        return out


#: shorter sides whose counts the manifest records (``source_smaller``): the
#: nets' input sizes and the stored size of the release
SIDE_MARKS = (64, 224, 227)


def small_source_warning(manifest, side, what):
    """A warning line when the database's source images were smaller than
    ``side`` (a net's input or the stored size), so that they were upscaled
    rather than high resolution; None otherwise or for older manifests."""
    sides = manifest.get("source_sides")
    if not sides or sides[0] >= side:
        return None
    count = (manifest.get("source_smaller") or {}).get(str(side))
    return ("warning: %s: %s images have a shorter side under %d px (shortest sides "
            "%d..%d px; stored at %dx%d): they are upscaled, not high-resolution images, "
            "and the paper's datasets are photos of 200-500+ px (database %s). Training "
            "works; a run on them is listed among the report's other runs rather than beside "
            "the paper when more than a tenth were upscaled over 2x. For a comparable run, "
            "give the original-resolution images (--data-root)"
            % (manifest.get("dataset"), "%d of %d" % (count, manifest.get("count"))
               if count is not None else "some", side, sides[0], sides[1],
               manifest.get("size"), manifest.get("size"), what))


def subset_classes(num_classes, count, seed, present=None):
    """The classes a cut-down build keeps: ``count`` of ``num_classes``,
    seeded, sorted.  The train and test subsets of one run draw the same
    ones, so every class a smoke run trains on has test images.  ``present``:
    the labels that have images in both splits (a dataset whose metadata
    names more classes than its folder holds, e.g. the official lists with
    the images of a few classes): only those are drawn, else a subset of
    absent classes builds an empty database.  With every class present the
    draw is the same as without ``present``."""
    labels = np.arange(num_classes) if present is None else np.array(sorted(present))
    if count is None or count >= len(labels):
        return None if present is None or len(labels) == num_classes else \
            [int(c) for c in labels]
    return sorted(int(c) for c in np.random.RandomState(seed).permutation(labels)[:count])


def present_labels(fmt, root, loaded=None, **split_options):
    """The labels with images in both the train and the test split (the
    classes a cut-down build can draw: ``subset_classes``); ``loaded``: one
    of the two splits when already read (not read again)."""
    both = None
    for split in ("train", "test"):
        ds = loaded if loaded is not None and loaded.split == split else \
            datasets_mod.load(fmt, root, split, **split_options)
        labels = {s.label for s in ds.samples}
        both = labels if both is None else both & labels
    return both


def shuffled(samples, seed, limit=None, classes=None):
    """The samples in a seeded random order; with ``limit``, the first
    ``limit`` of a class-balanced order (round-robin over classes), from
    the labels ``classes`` only when given."""
    order = np.random.RandomState(seed).permutation(len(samples))
    out = [samples[i] for i in order]
    if classes is not None:
        keep = set(classes)
        out = [s for s in out if s.label in keep]
    if limit is not None and limit < len(out):
        rank, seen = [], collections.Counter()
        for s in out:
            rank.append(seen[s.label])
            seen[s.label] += 1
        keep = sorted(range(len(out)), key=lambda i: (rank[i], i))[:limit]
        out = [out[i] for i in sorted(keep)]
    return out


def _as_dataset(dataset, split, root):
    if isinstance(dataset, datasets_mod.Dataset):
        if split is not None and split != dataset.split:
            raise RacnnError("dataset object is the %r split, not %r" % (dataset.split, split))
        return dataset
    if root is None:
        raise RacnnError("building a %s database needs the dataset's root folder" % dataset)
    return datasets_mod.load(dataset, root, split)


def build_classification_db(dataset, split=None, res=vocab.DEFAULT_RES, out=None,
                            size=vocab.DEFAULT_DB_SIZE, kernel=vocab.DEFAULT_KERNEL, root=None,
                            encoded=False, skip_bad=False, seed=0, limit=None, workers=None,
                            overwrite=False, desc=None, jpeg_quality=None, classes=None):
    """Build the database of ``dataset`` (a racnn.datasets.Dataset, or a
    format name with ``root``) degraded to ``res`` and stored at ``size``
    (with ``jpeg_quality``: through a JPEG round trip at that quality;
    ``classes``: the labels a cut-down build keeps).

    ``out`` defaults to ``vocab.db_path(dataset.name, split, res, size,
    kernel)``.  Returns the manifest."""
    check_kernel(kernel)
    res, size = int(res), int(size)
    if not (1 <= res <= size):
        raise RacnnError("resolution must be 1..size (%d), got %d" % (size, res))
    ds = _as_dataset(dataset, split, root)
    split = ds.split
    out = out or vocab.db_path(ds.name, split, res, size, kernel)
    # one builder at a time: a second one waits, then finds the database finished
    with locks.hold_beside(out, "database %s" % out):
        if os.path.exists(out) and not overwrite:
            raise RacnnError("database %s already exists (use --overwrite to replace it)" % out)
        return _write_classification_db(ds, split, res, out, size, kernel, encoded, skip_bad,
                                        seed, limit, workers, overwrite, desc,
                                        jpeg_quality=jpeg_quality, classes=classes)


def _write_classification_db(ds, split, res, out, size, kernel, encoded, skip_bad, seed, limit,
                             workers, overwrite, desc, jpeg_quality=None, classes=None):
    samples = shuffled(ds.samples, seed, limit, classes)
    tally = Tally(sized=True, size=size)
    engine = prepare(kernel)        # before the workers fork

    mapped = ordered_map(functools.partial(process_sample, res=res, size=size, kernel=kernel,
                                           encoded=encoded, skip_bad=skip_bad,
                                           jpeg_quality=jpeg_quality),
                         samples, workers, item_bytes=3 * size * size + 64)  # raw; encoded: less

    manifest = dict(       # write_datums adds the DESIGN.md keys left unset
        kind="classification", dataset=ds.name, format=ds.fmt, split=split, res=res, size=size,
        kernel=kernel, resize_engine=engine, num_classes=ds.num_classes,
        class_names=ds.class_names,
        source_root=ds.root, source_hash=ds.source_hash(), source_count=len(ds.samples),
        limit=limit, seed=seed, channels=3, jpeg_quality=jpeg_quality,
        derived_from=ds.derived_from, subset_classes=classes)

    manifest = write_datums(out, (payload for _, payload in tally.ok(mapped)), manifest,
                            total=len(samples), encoded=encoded, overwrite=overwrite,
                            finish=tally.fields,
                            desc=desc or "%s %s r%d" % (ds.name, split, res))
    return manifest


def ensure_classification_db(fmt, root, split, path=None, res=vocab.DEFAULT_RES,
                             size=vocab.DEFAULT_DB_SIZE, kernel=vocab.DEFAULT_KERNEL,
                             limit=None, seed=0, encoded=False, skip_bad=False, workers=None,
                             jpeg_quality=None, split_from=None, test_fraction=None,
                             split_seed=0, class_count=None):
    """The manifest of the database at ``path``, (re)built when it is
    missing or was made from other data or settings; ``split_from``: the
    split drawn from (racnn.datasets.load); ``class_count``: a cut-down build
    keeps that many classes (``subset_classes``, seeded like the subset)."""
    ds = datasets_mod.load(fmt, root, split, split_from=split_from,
                           test_fraction=test_fraction, seed=split_seed)
    present = None if class_count is None else present_labels(
        fmt, root, ds, split_from=split_from, test_fraction=test_fraction, seed=split_seed)
    classes = subset_classes(ds.num_classes, class_count, seed, present)
    path = path or vocab.db_path(ds.name, split, res, size, kernel)
    # runs that share the database: one builds it, the others wait and reuse it
    with locks.hold_beside(path, "database %s" % path):
        if os.path.isdir(path):
            m = existing_manifest(path)
            if matches(m, kind="classification", res=res, size=size, kernel=kernel, split=split,
                       source_hash=ds.source_hash(), limit=limit, seed=seed, encoded=encoded,
                       jpeg_quality=jpeg_quality, subset_classes=classes):
                return m
        return build_classification_db(ds, split, res, path, size=size, kernel=kernel,
                                       encoded=encoded, skip_bad=skip_bad, seed=seed,
                                       limit=limit, workers=workers, overwrite=True,
                                       jpeg_quality=jpeg_quality, classes=classes)
