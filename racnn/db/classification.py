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
from .. import locks, specs
from ..resize.degrade import channel_order_free, check_kernel, degrade, prepare
from ..errors import RacnnError
from .datum import datum_bytes
from .lmdbio import write_datums
from .manifest import existing_manifest, matches
from .pool import ordered_map

# ----------------------------------------------------- classification items --

def process_sample(sample, res, size, kernel, encoded=False, skip_bad=False):
    """The serialised Datum of one sample: ``("ok", bytes, label, id, clipped)``
    or, with ``skip_bad``, ``("bad", message)`` for an unreadable image."""
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
    value = datum_bytes(chw.transpose(1, 2, 0), sample.label, encoded)   # raw: chw as it is
    return ("ok", value, sample.label, sample.id, clipped)


class Tally(object):
    """What a build skipped (unreadable images, with ``skip_bad``) and how
    many boxes it clipped, from results ``("ok", ..., clipped)`` or
    ``("bad", message)``."""

    def __init__(self):
        self.skipped, self.clipped = [], 0

    def ok(self, results):
        """``(position, payload)`` of every ok result (payload: the fields
        between the tag and ``clipped``), counting the others."""
        for i, r in enumerate(results):
            if r[0] == "bad":
                self.skipped.append(r[1])
                continue
            self.clipped += int(r[-1])
            yield i, r[1:-1]

    def fields(self):
        """The manifest fields, known once every result has been seen."""
        return {"skipped_bad": len(self.skipped), "skipped_files": self.skipped[:100],
                "clipped_boxes": self.clipped}


def shuffled(samples, seed, limit=None):
    """The samples in a seeded random order; with ``limit``, the first
    ``limit`` of a class-balanced order (round-robin over classes)."""
    order = np.random.RandomState(seed).permutation(len(samples))
    out = [samples[i] for i in order]
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


def build_classification_db(dataset, split=None, res=specs.DEFAULT_RES, out=None,
                            size=specs.DEFAULT_DB_SIZE, kernel=specs.DEFAULT_KERNEL, root=None,
                            encoded=False, skip_bad=False, seed=0, limit=None, workers=None,
                            overwrite=False, desc=None):
    """Build the database of ``dataset`` (a racnn.datasets.Dataset, or a
    format name with ``root``) degraded to ``res`` and stored at ``size``.

    ``out`` defaults to ``specs.db_path(dataset.name, split, res, size,
    kernel)``.  Returns the manifest."""
    check_kernel(kernel)
    res, size = int(res), int(size)
    if not (1 <= res <= size):
        raise RacnnError("resolution must be 1..size (%d), got %d" % (size, res))
    ds = _as_dataset(dataset, split, root)
    split = ds.split
    out = out or specs.db_path(ds.name, split, res, size, kernel)
    # one builder at a time: a second one waits, then finds the database finished
    with locks.hold_beside(out, "database %s" % out):
        if os.path.exists(out) and not overwrite:
            raise RacnnError("database %s already exists (use --overwrite to replace it)" % out)
        return _write_classification_db(ds, split, res, out, size, kernel, encoded, skip_bad,
                                        seed, limit, workers, overwrite, desc)


def _write_classification_db(ds, split, res, out, size, kernel, encoded, skip_bad, seed, limit,
                             workers, overwrite, desc):
    samples = shuffled(ds.samples, seed, limit)
    tally = Tally()
    engine = prepare(kernel)        # before the workers fork

    mapped = ordered_map(functools.partial(process_sample, res=res, size=size, kernel=kernel,
                                           encoded=encoded, skip_bad=skip_bad),
                         samples, workers, item_bytes=3 * size * size + 64)  # raw; encoded: less

    manifest = dict(       # write_datums adds the DESIGN.md keys left unset
        kind="classification", dataset=ds.name, format=ds.fmt, split=split, res=res, size=size,
        kernel=kernel, resize_engine=engine, num_classes=ds.num_classes,
        class_names=ds.class_names,
        source_root=ds.root, source_hash=ds.source_hash(), source_count=len(ds.samples),
        limit=limit, seed=seed, channels=3)

    return write_datums(out, (payload for _, payload in tally.ok(mapped)), manifest,
                        total=len(samples), encoded=encoded, overwrite=overwrite,
                        finish=tally.fields,
                        desc=desc or "%s %s r%d" % (ds.name, split, res))


def ensure_classification_db(fmt, root, split, path=None, res=specs.DEFAULT_RES,
                             size=specs.DEFAULT_DB_SIZE, kernel=specs.DEFAULT_KERNEL,
                             limit=None, seed=0, encoded=False, skip_bad=False, workers=None):
    """The manifest of the database at ``path``, (re)built when it is
    missing or was made from other data or settings."""
    ds = datasets_mod.load(fmt, root, split)
    path = path or specs.db_path(ds.name, split, res, size, kernel)
    # runs that share the database: one builds it, the others wait and reuse it
    with locks.hold_beside(path, "database %s" % path):
        if os.path.isdir(path):
            m = existing_manifest(path)
            if matches(m, kind="classification", res=res, size=size, kernel=kernel, split=split,
                       source_hash=ds.source_hash(), limit=limit, seed=seed, encoded=encoded):
                return m
        return build_classification_db(ds, split, res, path, size=size, kernel=kernel,
                                       encoded=encoded, skip_bad=skip_bad, seed=seed,
                                       limit=limit, workers=workers, overwrite=True)
