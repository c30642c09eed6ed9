"""``manifest.json``: how a database was made (dataset, split, resolution,
kernel, count, label range, ...: the keys in docs/DESIGN.md), read and checked
against what a net expects before Caffe sees the database."""
import datetime
import json
import os

from .. import __version__ as RACNN_VERSION
from ..errors import RacnnError

MANIFEST = "manifest.json"
#: ``source_upscaled`` counts the sources whose shorter side is under the
#: stored size / this factor (racnn.rundir.verdict's tolerance is on it)
UPSCALE_FACTOR = 2.0


#: keys every manifest has (DESIGN.md); kind-specific ones come on top
MANIFEST_KEYS = ("kind", "dataset", "split", "res", "size", "kernel", "count", "num_classes",
                 "label_min", "label_max", "class_names", "channel_order", "encoded",
                 "source_hash", "skipped_bad", "clipped_boxes", "seed", "created",
                 "racnn_version")


def existing_manifest(db_dir):
    """The manifest of ``db_dir``, or {} when there is no readable one (the
    builders then treat the database as stale)."""
    try:
        return read_manifest(db_dir)
    except RacnnError:
        return {}


def read_manifest(db_dir):
    """The manifest dict of the database ``db_dir``; a RacnnError when the
    folder, the LMDB or the manifest is missing or unreadable."""
    if not os.path.isdir(db_dir):
        raise RacnnError("database %s does not exist (build it with tools/build_lmdb.py "
                         "or tools/build_sr_patches.py)" % db_dir)
    path = os.path.join(db_dir, MANIFEST)
    if not os.path.isfile(path):
        raise RacnnError("database %s has no %s: it is incomplete or was not made by "
                         "racnn; rebuild it" % (db_dir, MANIFEST))
    if not os.path.isfile(os.path.join(db_dir, "data.mdb")):
        raise RacnnError("database %s has no data.mdb (LMDB file); rebuild it" % db_dir)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        raise RacnnError("database %s: corrupt %s (%s); rebuild it" % (db_dir, MANIFEST, exc))
    if not isinstance(manifest, dict) or "kind" not in manifest or "count" not in manifest:
        raise RacnnError("database %s: %s lacks 'kind'/'count'; rebuild it" % (db_dir, MANIFEST))
    return manifest


def check_manifest(db_dir, size=None, num_classes=None, kind=None, res=None, min_size=None):
    """The manifest of ``db_dir`` after checking it against what a net
    expects; a RacnnError naming the database and every mismatch.

    ``size``: the stored image side must equal it; ``min_size``: it must be
    at least that (a net cropping 224 from 227 images); ``num_classes``: the
    net's number of outputs must equal the database's class count."""
    m = read_manifest(db_dir)
    problems = []
    if kind is not None and m.get("kind") != kind:
        problems.append("kind is %r, expected %r" % (m.get("kind"), kind))
    if size is not None and m.get("size") != size:
        problems.append("images are %sx%s, the net expects %dx%d"
                        % (m.get("size"), m.get("size"), size, size))
    if min_size is not None and (m.get("size") or 0) < min_size:
        problems.append("images are %sx%s, smaller than the net's %dx%d crop"
                        % (m.get("size"), m.get("size"), min_size, min_size))
    if num_classes is not None:
        if m.get("num_classes") != num_classes:
            problems.append("it has %s classes, the net has %d outputs"
                            % (m.get("num_classes"), num_classes))
        elif m.get("label_max") is not None and m["label_max"] >= num_classes:
            problems.append("label %d is out of range for %d classes" % (m["label_max"], num_classes))
    if res is not None and m.get("res") != res:
        problems.append("resolution is %s, expected %d" % (m.get("res"), res))
    if problems:
        raise RacnnError("database %s does not match: %s" % (db_dir, "; ".join(problems)))
    return m


def base_manifest(kind, **fields):
    """A manifest dict with every DESIGN.md key (None where unknown)."""
    m = dict.fromkeys(MANIFEST_KEYS)
    m.update(kind=kind, channel_order="BGR", encoded=False, skipped_bad=0, clipped_boxes=0,
             created=datetime.datetime.now().replace(microsecond=0).isoformat(),
             racnn_version=RACNN_VERSION)
    m.update(fields)
    return m


def matches(manifest, **want):
    """True when every ``want`` key equals the manifest's value."""
    return all(manifest.get(k) == v for k, v in want.items())
