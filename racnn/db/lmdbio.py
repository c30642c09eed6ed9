"""Caffe Datum LMDBs: writing them atomically, reading them back.

A database is a folder holding the LMDB files (``data.mdb``, ``lock.mdb``)
and ``manifest.json``.  Datums are BGR, uint8, CHW, 0..255 (raw, or PNG/JPEG
``encoded`` as ``convert_imageset --encoded`` writes them), labels 0-based.
Keys are ``%08d`` positions (plus ``_<id>``) so Caffe reads them in the
order they were written.  A database is written under a temporary name and
renamed when complete (``racnn.atomic``), with its manifest last.

``racnn.db.classification`` builds classification databases from datasets
and ``racnn.db.sr_patches`` the stage-1 SR patch database; both write
through :func:`write_datums`.  Datum bytes: ``racnn.db.datum``; manifests:
``racnn.db.manifest``.
"""
import json
import os

import numpy as np

from ..atomic import atomic_dir
from ..errors import RacnnError
from ..progress import progress
from .datum import ENCODINGS, datum_bytes, parse_datum
from .manifest import MANIFEST, base_manifest, read_manifest

TXN_BYTES = 16 << 20        # commit a write transaction every 16 MiB ...
TXN_ITEMS = 1000            # ... or every 1000 datums
INITIAL_MAP_SIZE = 256 << 20



def make_key(index, ident=None):
    key = "%08d" % index
    if ident:
        key += "_" + str(ident).replace(" ", "_")[-200:]
    return key.encode("utf-8")


# --------------------------------------------------------------- manifests ---


# ------------------------------------------------------------------ reading ---

def open_env(db_dir, manifest=True):
    """The LMDB of ``db_dir``, read-only; its manifest is checked first
    unless ``manifest`` is False (evaluation accepts foreign databases)."""
    import lmdb
    if manifest:
        read_manifest(db_dir)
    elif not os.path.isdir(db_dir):
        raise RacnnError("database %s does not exist" % db_dir)
    try:
        return lmdb.open(db_dir, readonly=True, lock=False, readahead=False, subdir=True)
    except lmdb.Error as exc:
        raise RacnnError("database %s: cannot open the LMDB (%s)" % (db_dir, exc))


def read_datums(db_dir, limit=None, manifest=True):
    """``(count, iterator of (key, label, uint8 CHW BGR array))`` in key
    order, the order Caffe's Data layer reads (at most ``limit``); the LMDB
    closes when the iterator is exhausted or dropped."""
    env = open_env(db_dir, manifest)
    count = env.stat()["entries"]

    def gen():
        try:
            with env.begin() as txn:
                for i, (key, value) in enumerate(txn.cursor()):
                    if limit is not None and i >= limit:
                        break
                    label, arr = parse_datum(value)
                    yield key.decode("utf-8", "replace"), label, arr
        finally:
            env.close()
    return (count if limit is None else min(count, limit)), gen()


def iter_datums(db_dir, limit=None):
    """Yield ``(key, label, uint8 CHW BGR array)`` in key order."""
    return read_datums(db_dir, limit)[1]


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

