"""The stage-1 SR pre-training database (docs/METHOD.md, "Stage 1").

Each HR image is resized to ``size x size`` (227) = HR; LR = HR down to
``res x res`` (50) and back up to ``size`` (same kernel).  Patches of
``patch x patch`` (51) at stride ``stride`` (17) are cut at the same place
from LR and HR and stored together as ONE 6-channel Datum: channels 0-2 the
LR patch, channels 3-5 the HR patch, both BGR like the classification
databases, label 0.  The stage-1 net splits the two with a ``Slice`` layer,
so input and label cannot drift apart.  Keys are a seeded permutation of the
patch numbers, so Caffe reads the patches shuffled across images.
Import these through ``racnn.db``.
"""
import functools
import hashlib
import os

import numpy as np

from .. import datasets as datasets_mod
from .. import locks, vocab
from .classification import Tally
from .datum import datum_bytes
from .lmdbio import write_datums
from .manifest import existing_manifest, matches
from .pool import ordered_map
from ..resize.degrade import check_kernel, degrade, prepare
from ..errors import RacnnError


def patch_positions(size, patch, stride):
    """Top-left offsets of the patches along one side."""
    if patch > size:
        raise RacnnError("patch %d is larger than the image side %d" % (patch, size))
    return list(range(0, size - patch + 1, stride))


def image_patches(img, res, size, patch, stride, kernel):
    """The 6-channel (LR BGR, HR BGR) patches of one image, HxWx6 uint8 each."""
    lr, hr = degrade(img, res, size, kernel, return_hr=True)   # the LR/HR pair
    both = np.concatenate([lr, hr], axis=2)
    pos = patch_positions(size, patch, stride)
    return [both[y:y + patch, x:x + patch] for y in pos for x in pos]


def process_source(source, res, size, patch, stride, kernel, skip_bad=False):
    """The serialised 6-channel patch Datums of one ``(path, box)``:
    ``("ok", [bytes], clipped)``, or with ``skip_bad`` ``("bad", message)``."""
    path, box = source
    try:
        img, clipped = datasets_mod.crop(datasets_mod.read_image(path), box, path)
    except RacnnError as exc:
        if skip_bad:
            return ("bad", str(exc))
        raise
    return ("ok", [datum_bytes(p, 0) for p in image_patches(img, res, size, patch, stride,
                                                            kernel)], clipped)


def list_images(images):
    """[(path, box)] of a folder (recursively, sorted), a list of paths, or a
    racnn.datasets.Dataset (its samples with their boxes)."""
    if isinstance(images, datasets_mod.Dataset):
        return [(s.path, s.box) for s in images.samples]
    if isinstance(images, (list, tuple)):
        return [(os.path.abspath(p), None) for p in images]
    if not os.path.isdir(images):
        raise RacnnError("SR patch images: folder %s does not exist" % images)
    out = [(path, None) for path in datasets_mod.image_files(images)]
    if not out:
        raise RacnnError("SR patch images: no image files under %s" % images)
    return out


def _source_hash(sources, base):
    h = hashlib.sha256()
    for path, box in sources:
        h.update(("%s\t%r\n" % (os.path.relpath(path, base), box)).encode("utf-8"))
    return h.hexdigest()


def build_sr_patch_db(images, out=None, res=vocab.SR_LR_RES, size=vocab.SR_HR_SIZE,
                      patch=vocab.SR_PATCH, stride=vocab.SR_STRIDE,
                      kernel=vocab.DEFAULT_KERNEL, max_images=None, seed=0, skip_bad=False,
                      workers=None, overwrite=False, desc="SR patches"):
    """Build the SR patch database from ``images`` (folder, list of paths or
    Dataset); ``max_images`` takes a seeded sample of that many images (the
    released script samples 500).  ``out`` defaults to ``vocab.sr_db_path``.
    Returns the manifest."""
    check_kernel(kernel)
    res, size, patch, stride = int(res), int(size), int(patch), int(stride)
    if not 1 <= res <= size or stride < 1:
        raise RacnnError("need 1 <= res <= size and stride >= 1 (res=%d size=%d stride=%d)"
                         % (res, size, stride))
    per_image = len(patch_positions(size, patch, stride)) ** 2
    sources = list_images(images)
    all_count, all_hash = len(sources), _source_hash(sources, "/")
    rng = np.random.RandomState(seed)
    if max_images is not None and max_images < len(sources):
        sources = [sources[i] for i in sorted(rng.choice(len(sources), max_images, False))]
    out = out or vocab.sr_db_path(res, size, patch, stride, kernel)
    # one builder at a time: a second one waits, then finds the database finished
    with locks.hold_beside(out, "database %s" % out):
        if os.path.exists(out) and not overwrite:
            raise RacnnError("database %s already exists (use --overwrite to replace it)" % out)
        return _write_sr_patch_db(images, sources, all_count, all_hash, rng, per_image, out,
                                  res, size, patch, stride, kernel, max_images, seed, skip_bad,
                                  workers, overwrite, desc)


def _write_sr_patch_db(images, sources, all_count, all_hash, rng, per_image, out, res, size,
                       patch, stride, kernel, max_images, seed, skip_bad, workers, overwrite,
                       desc):
    keys = rng.permutation(len(sources) * per_image)     # patch j -> its shuffled position
    tally = Tally()
    engine = prepare(kernel)        # before the workers fork

    mapped = ordered_map(functools.partial(process_source, res=res, size=size, patch=patch,
                                           stride=stride, kernel=kernel, skip_bad=skip_bad),
                         sources, workers, chunk=2, item_bytes=per_image * (6 * patch * patch + 64))

    def results():
        for i, (values,) in tally.ok(mapped):      # i counts skipped images too: keys stay put
            for j, value in enumerate(values):
                yield value, 0, None, b"%08d" % keys[i * per_image + j]

    is_ds = isinstance(images, datasets_mod.Dataset)
    base = images.root if is_ds else (images if isinstance(images, str) else "/")
    manifest = dict(       # write_datums adds the DESIGN.md keys left unset
        kind="sr_patches", dataset=images.name if is_ds else os.path.basename(str(base).rstrip("/")),
        split=images.split if is_ds else None, res=res, size=size,
        patch=patch, stride=stride, kernel=kernel, resize_engine=engine, num_classes=None,
        class_names=None,
        channels=6, channel_layout="0-2: LR (degraded, upscaled) BGR; 3-5: HR BGR",
        images=len(sources), patches_per_image=per_image, max_images=max_images,
        source_root=os.path.abspath(str(base)), source_hash=_source_hash(sources, base),
        source_count=all_count, all_sources_hash=all_hash, seed=seed)

    def finish():
        return dict(tally.fields(), images=len(sources) - len(tally.skipped))

    return write_datums(out, results(), manifest, total=len(sources) * per_image,
                        overwrite=overwrite, finish=finish, append=False, desc=desc, unit="patch")


def ensure_sr_patch_db(path=None, images=None, fmt=None, root=None, res=vocab.SR_LR_RES,
                       size=vocab.SR_HR_SIZE, patch=vocab.SR_PATCH, stride=vocab.SR_STRIDE,
                       kernel=vocab.DEFAULT_KERNEL, max_images=None, seed=0, skip_bad=False,
                       workers=None, split_from=None, test_fraction=None, split_seed=0):
    """The manifest of the SR patch database at ``path``, (re)built when it
    is missing or stale.  Source: the folder ``images`` if given, else the
    training split of dataset ``fmt`` at ``root`` (cropped to its boxes;
    ``split_from``: drawn from that split, racnn.datasets.load)."""
    if images is None:
        if fmt is None or root is None:
            raise RacnnError("SR patches need an image folder or a dataset (format and root)")
        images = datasets_mod.load(fmt, root, "train", split_from=split_from,
                                   test_fraction=test_fraction, seed=split_seed)
    path = path or vocab.sr_db_path(res, size, patch, stride, kernel)
    # runs that share the database: one builds it, the others wait and reuse it
    with locks.hold_beside(path, "database %s" % path):
        if os.path.isdir(path):
            m = existing_manifest(path)
            if matches(m, kind="sr_patches", res=res, size=size, patch=patch, stride=stride,
                       kernel=kernel, max_images=max_images, seed=seed) and \
                    m.get("all_sources_hash") == _source_hash(list_images(images), "/"):
                return m
        return build_sr_patch_db(images, path, res, size, patch, stride, kernel, max_images,
                                 seed, skip_bad, workers, overwrite=True)
