"""The compiled engine of the ``matlab`` resize kernel (``racnn/_resize.c``).

``load()`` returns the kernel library, compiling it on first use with the
system's C compiler (``gcc`` in the environment, ``$CC`` if set) into a
cache folder, the file named by a hash of the source, the flags and the
machine, written under a temporary name and renamed, so concurrent
processes never load a half-written library.  It returns None when no
compiler or no writable folder is available; ``racnn.resize.degrade`` then runs
the numpy engine (with a warning naming the reason).

The engine is chosen with ``RACNN_RESIZE``: ``auto`` (default: compiled
when available), ``c`` (compiled or an error) or ``numpy``.  Databases
record the engine in their manifest (``resize_engine``).  The compiled
engine resizes uint8 images (all the pipeline makes); float images always
go through numpy, in float64.

Cache folder: ``$RACNN_EXT_DIR``, else ``build/ext`` in the repository,
else ``~/.cache/racnn/ext``, else the system's temporary folder: the first
that is writable.
"""
import ctypes
import functools
import hashlib
import math
import os
import platform
import shutil
import subprocess
import tempfile
import warnings

import numpy as np

from ..atomic import atomic_path
from ..errors import RacnnError, RacnnWarning
from ..paths import REPO
from .matlab_rules import transpose_pixels

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_resize.c")
#: no fused multiply-add: every machine and clone rounds the same; C11 for
#: aligned_alloc; an undeclared function is an error, not an int-returning guess
CFLAGS = ("-O3", "-std=c11", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math",
          "-Wall", "-Werror=implicit-function-declaration", "-Werror=int-conversion")
ENGINES = ("auto", "c", "numpy")

_U8 = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS")
_F64 = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")
_I32 = np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")
_LONG = ctypes.c_long


def requested():
    """The engine asked for by ``RACNN_RESIZE`` (``auto`` when unset)."""
    value = os.environ.get("RACNN_RESIZE", "auto").strip().lower() or "auto"
    if value not in ENGINES:
        raise RacnnError("RACNN_RESIZE=%r: use one of %s" % (value, ", ".join(ENGINES)))
    return value


def _compiler():
    cc = os.environ.get("CC") or "gcc"
    return shutil.which(cc) or (shutil.which("cc") if "CC" not in os.environ else None)


def _cache_dirs():
    env = os.environ.get("RACNN_EXT_DIR")
    if env:
        return [env]
    return [os.path.join(REPO, "build", "ext"),
            os.path.join(os.path.expanduser("~"), ".cache", "racnn", "ext"),
            os.path.join(tempfile.gettempdir(), "racnn-ext-%d" % os.getuid())]


def library_name(cc):
    """``resize-<hash>.so``: the hash covers the source, the compiler's
    path, the flags and the machine."""
    with open(SOURCE, "rb") as fh:
        digest = hashlib.sha1(fh.read())
    digest.update(("\0".join((cc,) + CFLAGS + (platform.machine(),))).encode())
    return "resize-%s.so" % digest.hexdigest()[:16]


def _build(cc, folder):
    """Compile into ``folder`` (temporary name, then rename); the path."""
    path = os.path.join(folder, library_name(cc))
    if os.path.isfile(path):
        return path
    with atomic_path(path) as tmp:
        proc = subprocess.run([cc] + list(CFLAGS) + [SOURCE, "-o", tmp],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=120)
        if proc.returncode != 0:
            raise RacnnError("compiling %s with %s failed:\n%s" % (SOURCE, cc, proc.stdout.strip()))
        os.chmod(tmp, 0o755)
    return path


def _bind(path):
    lib = ctypes.CDLL(path)
    lib.racnn_resize_rows_u8.argtypes = [_U8, _LONG, _U8, _LONG, _F64, _I32, _LONG]
    lib.racnn_resize_rows_u8.restype = ctypes.c_int
    lib.racnn_resize_cols3_u8.argtypes = [_U8, _LONG, _LONG, _U8, _LONG, _F64, _I32, _LONG]
    lib.racnn_resize_cols3_u8.restype = ctypes.c_int
    lib.racnn_contributions.argtypes = [_LONG, _LONG, ctypes.c_double, _LONG, _F64, _I32]
    lib.racnn_contributions.restype = _LONG
    lib.racnn_resize_path.argtypes, lib.racnn_resize_path.restype = [], ctypes.c_int
    lib.racnn_resize_force_path.argtypes = [ctypes.c_int]
    lib.racnn_resize_force_path.restype = None
    return lib


@functools.lru_cache(maxsize=1)
def _load():
    """(library or None, reason it is None)."""
    if not os.path.isfile(SOURCE):
        return None, "%s is missing" % SOURCE
    cc = _compiler()
    if cc is None:
        return None, "no C compiler (%s) found" % (os.environ.get("CC") or "gcc")
    errors = []
    for folder in _cache_dirs():
        try:
            return _bind(_build(cc, folder)), None
        except RacnnError as exc:
            return None, str(exc)          # the source does not compile: no point elsewhere
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append("%s: %s" % (folder, exc))
    return None, "no writable folder for the compiled kernel (%s)" % "; ".join(errors)


def load():
    """The compiled kernel library, or None (numpy engine).  Honours
    ``RACNN_RESIZE``; ``c`` makes an unavailable library an error."""
    want = requested()
    if want == "numpy":
        return None
    lib, why = _load()
    if lib is None:
        if want == "c":
            raise RacnnError("RACNN_RESIZE=c but the compiled resize kernel is unavailable: %s" % why)
        _warn_once(why)
    return lib


@functools.lru_cache(maxsize=1)
def _warn_once(why):
    warnings.warn("the matlab resize kernel runs in numpy (about 2x slower, float32: a value "
                  "within ~1e-4 of a rounding tie may land one gray level apart from MATLAB): "
                  "%s; install gcc (docker/provision.sh does)" % why, RacnnWarning, stacklevel=3)


def engine():
    """``c`` or ``numpy``: the engine the matlab kernel uses in this process."""
    return "c" if load() is not None else "numpy"


def contributions(lib, in_len, out_len, scale=None):
    """racnn.resize.matlab_rules.contributions computed by the library (~100x faster:
    the first resize of every image of another size needs new weights):
    ``(weights float64, indices int32)``, C-contiguous, bit-identical."""
    scale = out_len / float(in_len) if scale is None else float(scale)
    width = 4.0 / scale if scale < 1 else 4.0
    taps = int(math.ceil(width)) + 2
    w = np.empty(out_len * taps, np.float64)
    idx = np.empty(out_len * taps, np.int32)
    kept = lib.racnn_contributions(in_len, out_len, scale, taps, w, idx)
    n = out_len * kept
    return w[:n].reshape(out_len, kept).copy(), idx[:n].reshape(out_len, kept).copy()


def resize_rows(lib, x, out_len, w, idx):
    """``dst[j] = sum_k w[j, k] * x[idx[j, k]]``, rounded as MATLAB, for a
    2-D C-contiguous uint8 ``x``."""
    n = x.shape[1]
    out = np.empty((out_len, n), np.uint8)
    if lib.racnn_resize_rows_u8(x, n, out, out_len, w, idx, w.shape[1]) != 0:
        raise MemoryError("resize: no memory for a row of %d values" % n)
    return out


def resize_cols3(lib, a, out_len, w, idx):
    """The second dimension of a C-contiguous uint8 (H, W, 3) image, or
    None when this CPU has no vector path for it (resize the transpose)."""
    h, n_in, _ = a.shape
    out = np.empty((h, out_len, 3), np.uint8)
    rc = lib.racnn_resize_cols3_u8(a, h, n_in, out, out_len, w, idx, w.shape[1])
    if rc == -2:
        return None
    if rc != 0:
        raise MemoryError("resize: no memory for the row buffers of a %dx%d image" % (h, n_in))
    return out


@functools.lru_cache(maxsize=64)
def _taps(lib, in_len, out_len, scale):
    return contributions(lib, in_len, out_len, scale)


class _Passes(object):
    """The two passes ``degrade._resize_hwc`` orders, for uint8 (H, W, C)
    images: the first dimension on (H, W*C); the second by the 3-channel
    kernel, or on the pixel transpose."""

    def __init__(self, lib):
        self.lib = lib

    def rows(self, a, n_out, scale):
        w, idx = _taps(self.lib, a.shape[0], n_out, scale)
        y = resize_rows(self.lib, np.ascontiguousarray(a.reshape(a.shape[0], -1)), n_out, w, idx)
        return y.reshape(n_out, a.shape[1], a.shape[2])

    def cols(self, a, n_out, scale):
        if a.shape[2] == 3:
            w, idx = _taps(self.lib, a.shape[1], n_out, scale)
            out = resize_cols3(self.lib, np.ascontiguousarray(a), n_out, w, idx)
            if out is not None:
                return out
        return transpose_pixels(self.rows(transpose_pixels(a), n_out, scale))


@functools.lru_cache(maxsize=4)
def _passes_of(lib):
    return _Passes(lib)


def passes():
    """The compiled engine's passes (``rows``, ``cols``), or None when the
    numpy engine runs (``RACNN_RESIZE``, no compiler)."""
    lib = load()
    return None if lib is None else _passes_of(lib)


def resizes_colour_rows():
    """True when the compiled engine resizes the second dimension of
    3-channel images itself (its AVX2 path), so the matlab kernel needs no
    OpenCV transposes."""
    lib = load()
    return lib is not None and lib.racnn_resize_path() == 1

