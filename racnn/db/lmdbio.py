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
import errno
import json
import os
import struct

import numpy as np

from ..atomic import atomic_dir
from ..errors import RacnnError
from ..progress import progress
from .datum import ENCODINGS, datum_bytes, parse_datum
from .manifest import MANIFEST, base_manifest, read_manifest

TXN_BYTES = 16 << 20        # commit a write transaction every 16 MiB ...
TXN_ITEMS = 1000            # ... or every 1000 datums
INITIAL_MAP_SIZE = 256 << 20
IDENT_BYTES = 200           # LMDB keys hold at most 511 bytes
LOW_SPACE = 4 << 20         # below this many free bytes a failed write means a full disk


def make_key(index, ident=None):
    """``%08d`` of ``index`` (unique, in write order), then ``_`` and the
    last ``IDENT_BYTES`` bytes of ``ident`` in UTF-8, cut at a character
    boundary: a cut by characters let ~190 CJK characters through as ~570
    bytes, more than LMDB's 511."""
    key = b"%08d" % index
    if ident:
        tail = str(ident).replace(" ", "_").encode("utf-8")[-IDENT_BYTES:]
        key += b"_" + tail.decode("utf-8", "ignore").encode("utf-8")
    return key


# --------------------------------------------------------------- manifests ---


# ------------------------------------------------------------------ reading ---

def check_data_file(db_dir):
    """A RacnnError naming ``db_dir/data.mdb`` when it is shorter than its
    own header says (a copy cut short, a full disk): reading a page past the
    end of a mapped file kills the process with SIGBUS, no message.

    LMDB's two meta pages (at 0 and at one page size) each hold the magic
    0xBEEFC0DE, the page size (in the free list's ``md_pad``), the last used
    page and the transaction id; the newer meta page is the valid one, and
    the file must hold pages 0 .. last page (64-bit layout)."""
    path = os.path.join(db_dir, "data.mdb")
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(152)
            metas = [head]
            if len(head) == 152:
                psize = struct.unpack_from("<I", head, 40)[0]
                if 512 <= psize <= 1 << 16:
                    fh.seek(psize)
                    metas.append(fh.read(152))
    except OSError as exc:
        raise RacnnError("database %s: cannot read data.mdb (%s)" % (db_dir, exc))
    valid = [struct.unpack_from("<I", m, 40) + struct.unpack_from("<QQ", m, 136)
             for m in metas if len(m) == 152 and struct.unpack_from("<I", m, 16)[0] == 0xBEEFC0DE]
    if not valid:
        raise RacnnError("database %s: %s is not an LMDB file (%d bytes, no LMDB header); "
                         "rebuild it or copy it again" % (db_dir, path, size))
    psize, last_pg, _ = max(valid, key=lambda v: v[2])
    need = (last_pg + 1) * psize
    if size < need:
        raise RacnnError("database %s: %s is truncated (%d bytes, its LMDB header says %d): "
                         "an incomplete copy or a full disk; rebuild it or copy it again"
                         % (db_dir, path, size, need))


def open_env(db_dir, manifest=True):
    """The LMDB of ``db_dir``, read-only; its manifest is checked first
    unless ``manifest`` is False (evaluation accepts foreign databases),
    and the size of its data file always (``check_data_file``)."""
    import lmdb
    if manifest:
        read_manifest(db_dir)
    elif not os.path.isdir(db_dir):
        raise RacnnError("database %s does not exist" % db_dir)
    if os.path.isfile(os.path.join(db_dir, "data.mdb")):
        check_data_file(db_dir)
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
        # mode: py-lmdb's default 0o755 (LMDB drops the x bits) would ignore a
        # group-writable umask; files get 0666 less the umask like every other
        self.env = lmdb.open(path, map_size=map_size, subdir=True, meminit=False,
                             map_async=True, sync=False, mode=0o666)
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
                raise RacnnError("%s: a key is too long for LMDB (at most 511 bytes): %r"
                                 % (self.path, max((k for k, _ in self.pending), key=len)))
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
    if os.path.exists(out_dir):
        check_replaceable(out_dir)
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
    except (OSError, lmdb_error()) as exc:
        if disk_full(exc, os.path.dirname(out_dir)):
            raise RacnnError("%s: no space left on the device holding %s (%s); the partial "
                             "database was removed" % (out_dir, os.path.dirname(out_dir), exc))
        raise
    finally:
        bar.close()
    return manifest


def lmdb_error():
    import lmdb
    return lmdb.Error


def disk_full(exc, folder):
    """Whether a failed write was a full disk: ENOSPC, or an LMDB error
    (LMDB reports a failed page write as EIO) with almost nothing free on
    the device holding ``folder``."""
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE


def check_replaceable(out_dir):
    """A RacnnError unless ``out_dir`` may be replaced by ``--overwrite``: a
    database of ours (its manifest.json has our ``kind``) or an empty
    folder.  A dataset folder given as --out by mistake is never deleted."""
    if os.path.isdir(out_dir) and not os.path.islink(out_dir) and not os.listdir(out_dir):
        return
    try:
        with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as fh:
            doc = json.load(fh)
        ours = isinstance(doc, dict) and "kind" in doc
    except (OSError, ValueError):
        ours = False
    if not ours or not os.path.isdir(out_dir) or os.path.islink(out_dir):
        raise RacnnError("%s is not a racnn database (no %s): --overwrite replaces only "
                         "databases built by racnn; nothing was deleted (choose another --out, "
                         "or remove the folder yourself)" % (out_dir, MANIFEST))

