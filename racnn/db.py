"""Caffe Datum LMDBs and their manifests.

A database is a folder holding the LMDB files (``data.mdb``, ``lock.mdb``)
and ``manifest.json``.  Datums are BGR, uint8, CHW, 0..255 (raw, or PNG/JPEG
``encoded`` as ``convert_imageset --encoded`` writes them), labels 0-based.
Keys are ``%08d`` positions (plus ``_<id>``) so Caffe reads them in the
order they were written.  A database is written under a temporary name and
renamed when complete (``racnn.atomic``), with its manifest last.

``racnn.dbbuild`` builds classification databases from datasets and
``racnn.sr_patches`` the stage-1 SR patch database; both write through
:func:`write_datums`.
"""
import datetime
import json
import os

import numpy as np

from . import __version__ as RACNN_VERSION
from .atomic import atomic_dir
from .errors import RacnnError
from .progress import progress

MANIFEST = "manifest.json"
ENCODINGS = (False, "png", "jpg")
#: keys every manifest has (DESIGN.md); kind-specific ones come on top
MANIFEST_KEYS = ("kind", "dataset", "split", "res", "size", "kernel", "count", "num_classes",
                 "label_min", "label_max", "class_names", "channel_order", "encoded",
                 "source_hash", "skipped_bad", "clipped_boxes", "seed", "created",
                 "racnn_version")
TXN_BYTES = 16 << 20        # commit a write transaction every 16 MiB ...
TXN_ITEMS = 1000            # ... or every 1000 datums
INITIAL_MAP_SIZE = 256 << 20


def _caffe_pb2():
    from caffe.proto import caffe_pb2
    return caffe_pb2


# ------------------------------------------------------------------ datums ---

def datum_bytes(img, label, encoded=False):
    """Serialise an HxWxC uint8 (BGR) image and its label as a Caffe Datum."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise RacnnError("datums hold uint8 images, got %s" % img.dtype)
    if img.ndim == 2:
        img = img[:, :, None]
    if encoded:
        import cv2
        ext = {"png": ".png", "jpg": ".jpg"}.get(encoded)
        if ext is None or img.shape[2] != 3:
            raise RacnnError("encoded datums need a 3-channel image and encoding png or jpg, "
                             "got %r with %d channels" % (encoded, img.shape[2]))
        ok, buf = cv2.imencode(ext, img)
        if not ok:
            raise RacnnError("could not %s-encode an image" % encoded)
        data = buf.tobytes()     # fields 4 data, 5 label, 7 encoded, as pycaffe writes them
        return b"".join((b"\x22", _varint(len(data)), data, b"\x28", _varint(_label(label)),
                         b"\x38\x01"))
    return datum_bytes_chw(img.transpose(2, 0, 1), label)


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def datum_bytes_chw(chw, label):
    """A raw Datum of a CxHxW uint8 array (the Datum's own layout).

    The protobuf wire format is written directly (fields 1 channels,
    2 height, 3 width, 4 data, 5 label, in the order and form of
    ``caffe_pb2.Datum.SerializeToString``; tests/test_db.py checks the bytes
    are identical): the writer then needs neither pycaffe (1 s to import,
    100 MB per worker) nor two extra copies of every image.  Encoded Datums
    (``datum_bytes``) are written the same way."""
    chw = np.asarray(chw)
    if chw.dtype != np.uint8 or chw.ndim != 3:
        raise RacnnError("raw datums hold CxHxW uint8 arrays, got %s %s" % (chw.dtype, chw.shape))
    c, h, w = chw.shape
    data = np.ascontiguousarray(chw).tobytes()
    return b"".join((b"\x08", _varint(c), b"\x10", _varint(h), b"\x18", _varint(w),
                     b"\x22", _varint(len(data)), data, b"\x28", _varint(_label(label))))


def _label(label):
    label = int(label)
    if label < 0:
        raise RacnnError("datum labels are >= 0, got %d" % label)
    return label


def parse_datum(value):
    """``(label, uint8 CHW array)`` of a serialised Datum (decodes encoded ones
    to BGR like Caffe's DataTransformer)."""
    datum = _caffe_pb2().Datum()
    datum.ParseFromString(value)
    if datum.encoded:
        import cv2
        img = cv2.imdecode(np.frombuffer(datum.data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise RacnnError("an encoded datum could not be decoded")
        return datum.label, img.transpose(2, 0, 1)
    if datum.data:
        arr = np.frombuffer(datum.data, np.uint8)
    else:
        arr = np.asarray(datum.float_data, np.float32)
    return datum.label, arr.reshape(datum.channels, datum.height, datum.width)


def make_key(index, ident=None):
    key = "%08d" % index
    if ident:
        key += "_" + str(ident).replace(" ", "_")[-200:]
    return key.encode("utf-8")


# --------------------------------------------------------------- manifests ---

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


# ------------------------------------------------------------------ reading ---

def open_env(db_dir):
    import lmdb
    read_manifest(db_dir)
    try:
        return lmdb.open(db_dir, readonly=True, lock=False, readahead=False, subdir=True)
    except lmdb.Error as exc:
        raise RacnnError("database %s: cannot open the LMDB (%s)" % (db_dir, exc))


def iter_datums(db_dir, limit=None):
    """Yield ``(key, label, uint8 CHW BGR array)`` in key order (the order
    Caffe's Data layer reads)."""
    env = open_env(db_dir)
    try:
        with env.begin() as txn:
            for i, (key, value) in enumerate(txn.cursor()):
                if limit is not None and i >= limit:
                    break
                label, arr = parse_datum(value)
                yield key.decode("utf-8"), label, arr
    finally:
        env.close()


def count_datums(db_dir):
    env = open_env(db_dir)
    try:
        return env.stat()["entries"]
    finally:
        env.close()


# ------------------------------------------------------------------ writing ---

class LmdbWriter(object):
    """Append serialised Datums to a new LMDB in bounded transactions,
    doubling the map size whenever it is full."""

    def __init__(self, path, map_size=INITIAL_MAP_SIZE, txn_bytes=TXN_BYTES, txn_items=TXN_ITEMS,
                 append=True):
        import lmdb
        self._lmdb = lmdb
        self.path = path
        self.env = lmdb.open(path, map_size=map_size, subdir=True, meminit=False,
                             map_async=True, sync=False)
        self.map_size, self.append = map_size, append
        self.txn_bytes, self.txn_items = txn_bytes, txn_items
        self.pending, self.pending_bytes, self.count = [], 0, 0

    def put(self, key, value):
        self.pending.append((key, value))
        self.pending_bytes += len(value)
        if self.pending_bytes >= self.txn_bytes or len(self.pending) >= self.txn_items:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        while True:
            try:
                with self.env.begin(write=True) as txn:
                    for key, value in self.pending:
                        if not txn.put(key, value, append=self.append, overwrite=False):
                            raise RacnnError("%s: duplicate key %r" % (self.path, key))
                break
            except self._lmdb.MapFullError:
                self.map_size *= 2
                self.env.set_mapsize(self.map_size)
            except self._lmdb.BadValsizeError:
                raise RacnnError("%s: a key is too long for LMDB" % self.path)
        self.count += len(self.pending)
        self.pending, self.pending_bytes = [], 0

    def close(self):
        self.flush()
        self.env.sync(True)
        self.env.close()


def write_datums(out_dir, items, manifest_extra, total=None, encoded=False, overwrite=False,
                 desc="writing", map_size=INITIAL_MAP_SIZE, finish=None, append=True,
                 unit="img"):
    """Write ``items`` into a new database ``out_dir`` atomically.

    ``items`` yields ``(HxWxC uint8 BGR array, label)`` or ``(array, label,
    id)``, or already serialised ``(bytes, label, id)``; keys follow the
    iteration order, unless items carry a 4th field, their key (bytes), and
    ``append`` is False (keys in any order).  ``manifest_extra`` supplies the manifest fields (kind,
    dataset, ...); count, label range and shape are filled in here, then
    the fields ``finish()`` returns (when given) once all items are written.
    Returns the manifest.  An existing ``out_dir`` is an error unless
    ``overwrite``."""
    out_dir = os.path.abspath(out_dir)
    if encoded not in ENCODINGS:
        raise RacnnError("encoded must be one of %s, got %r" % (ENCODINGS, encoded))
    if os.path.exists(out_dir) and not overwrite:
        raise RacnnError("database %s already exists (use --overwrite to replace it)" % out_dir)
    manifest = base_manifest(manifest_extra.get("kind", "classification"))
    manifest.update(manifest_extra)
    manifest["encoded"] = encoded
    num_classes = manifest.get("num_classes")
    labels_seen, shape = [None, None], None
    bar = progress(total=total, desc=desc, unit=unit)
    try:
        with atomic_dir(out_dir, overwrite=overwrite) as tmp:
            writer = LmdbWriter(tmp, map_size=map_size, append=append)
            try:
                for index, item in enumerate(items):
                    value, label = item[0], int(item[1])
                    ident = item[2] if len(item) > 2 else None
                    if num_classes is not None and not 0 <= label < num_classes:
                        raise RacnnError("%s: label %d of item %s is outside 0..%d"
                                         % (out_dir, label, ident or index, num_classes - 1))
                    if not isinstance(value, bytes):
                        arr = np.asarray(value)
                        if shape is None:
                            shape = arr.shape
                        value = datum_bytes(arr, label, encoded)
                    key = item[3] if len(item) > 3 else make_key(index, ident)
                    writer.put(key, value)
                    lo, hi = labels_seen
                    labels_seen = [label if lo is None else min(lo, label),
                                   label if hi is None else max(hi, label)]
                    bar.update(1)
            finally:
                writer.close()
            if writer.count == 0:
                raise RacnnError("%s: nothing to write (no images)" % out_dir)
            manifest["count"] = writer.count
            manifest["label_min"], manifest["label_max"] = labels_seen
            if shape is not None and manifest.get("channels") is None:
                manifest["channels"] = int(shape[2]) if len(shape) == 3 else 1
            if finish is not None:
                manifest.update(finish())
            with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, indent=1, sort_keys=True)
                fh.write("\n")
    finally:
        bar.close()
    return manifest


# builders live in their own modules; they are part of this module's API
from .dbbuild import build_classification_db, ensure_classification_db  # noqa: E402
from .pmap import ordered_map  # noqa: E402
from .sr_patches import build_sr_patch_db, ensure_sr_patch_db  # noqa: E402
