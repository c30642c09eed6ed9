"""The numpy engine of the ``matlab`` resize kernel (``RACNN_RESIZE=numpy``,
or no C compiler): each dimension's weights (``degrade.contributions``)
become a banded matrix, cached per (in, out) and applied in dense row blocks
(their size chosen by a cost model of this machine's BLAS) with BLAS, in
float32 for uint8 images, float64 otherwise.  ``rows`` and ``cols`` are the
two passes ``degrade._resize_hwc`` orders.

Float32 BLAS rounds a value near a tie according to its place in memory
and to how OpenBLAS splits a product between threads: the passes run with
one OpenBLAS thread (``single_blas_thread``; the builders' workers set it
for good with ``set_blas_threads``), parallelism comes from processes.
"""
import contextlib
import functools

import numpy as np

from .matlab_rules import contributions, transpose_pixels


#: candidate numbers of output rows per dense block of a weight matrix
BLOCKS = (4, 8, 16, 32, 64, 128)
#: cost model of one BLAS product (measured here with one OpenBLAS thread):
#: a fixed cost per call plus the multiply-adds at a rate that grows with
#: the inner dimension k, up to a peak
CALL_US, RATE_PER_K, PEAK_RATE = 3.0, 0.33e3, 45e3       # us; MAC/us per k; MAC/us


@functools.lru_cache(maxsize=1)
def _openblas():
    import ctypes
    for name in ("libopenblas.so.0", "libblas.so.3", "libopenblas.so"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads, lib.openblas_get_num_threads  # noqa: B018
            return lib
        except (OSError, AttributeError):
            continue
    return None


def set_blas_threads(n):
    """Set OpenBLAS's thread count (the resizes are many small products that
    threads only slow down; parallelism comes from worker processes);
    returns the previous count, or None without OpenBLAS."""
    lib = _openblas()
    if lib is None:
        return None
    previous = lib.openblas_get_num_threads()
    lib.openblas_set_num_threads(int(n))
    return previous


@contextlib.contextmanager
def single_blas_thread():
    """Run a block with one OpenBLAS thread, then restore the count.  The
    matlab kernel always runs this way: OpenBLAS splits a product between
    threads with other edge kernels, which round differently, so a value
    near a rounding tie could come out one gray level apart depending on
    the thread count."""
    lib = _openblas()
    previous = lib.openblas_get_num_threads() if lib is not None else 1
    if previous != 1:
        lib.openblas_set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            lib.openblas_set_num_threads(previous)


@functools.lru_cache(maxsize=64)
def _dense(in_len, out_len, scale):
    """One dimension's (out_len x in_len) weight matrix; mirrored taps that
    land on the same input pixel are summed."""
    w, m = contributions(in_len, out_len, scale)
    dense = np.zeros((out_len, in_len))
    np.add.at(dense, (np.repeat(np.arange(out_len), w.shape[1]), m.ravel()), w.ravel())
    return dense


def _cut(dense, block, dtype):
    bands = []
    for first in range(0, dense.shape[0], block):
        last = min(first + block, dense.shape[0])
        cols = np.nonzero(np.any(dense[first:last] != 0, axis=0))[0]
        lo, hi = int(cols[0]), int(cols[-1]) + 1
        bands.append((first, last, lo, hi, np.ascontiguousarray(dense[first:last, lo:hi],
                                                                  dtype=dtype)))
    return bands


@functools.lru_cache(maxsize=512)
def _bands(in_len, out_len, scale, dtype, n):
    """The weight matrix cut into row blocks ``[(first, last, lo, hi,
    weights[first:last, lo:hi])]``, the block size chosen by the cost model
    for a right-hand side of ``n`` columns: few calls for small matrices,
    little wasted work for big ones."""
    dense = _dense(in_len, out_len, scale)

    def cost(bands):
        return sum(CALL_US + (last - first) * (hi - lo) * n /
                   min(PEAK_RATE, RATE_PER_K * (hi - lo)) for first, last, lo, hi, _ in bands)

    options = [_cut(dense, b, dtype) for b in BLOCKS if b < out_len] + [_cut(dense, out_len, dtype)]
    return min(options, key=cost)


def _apply(x, out_len, scale, dtype):
    """``W @ x`` for a 2-D ``x`` (in_len x n) with W in bands (BLAS)."""
    y = np.empty((out_len, x.shape[1]), dtype)
    for first, last, lo, hi, w in _bands(x.shape[0], out_len, scale, dtype, x.shape[1]):
        np.dot(w, x[lo:hi], out=y[first:last])
    return y


#: added before OpenCV's round-half-to-even so that exact ties (k + 0.5) go
#: up as in MATLAB: one float32 ulp at 128..256, far below the float32
#: arithmetic noise of the products
_TIE = 2.0 ** -16


def _to_uint8(y):
    """float32 -> uint8 as MATLAB rounds: saturate to 0..255, round half
    away from zero (ties go up; a value within 2**-16 below a tie may too)."""
    shape = y.shape
    y = y.reshape(shape[0], -1)
    if y.size >= 1024:          # one OpenCV pass, ~10x faster than numpy 1.19
        import cv2
        out = cv2.add(y, _TIE, dtype=cv2.CV_8U)
    else:                       # (OpenCV reads a scalar as an array on tiny inputs)
        out = np.clip(np.rint(y + np.float32(_TIE)), 0, 255).astype(np.uint8)
    return out.reshape(shape)


def _dtype(a):
    return np.float32 if a.dtype == np.uint8 else np.float64


def rows(a, n_out, scale):
    """The first dimension of an (H, W, C) array: a left product on
    (H, W*C); uint8 -> uint8 rounded as MATLAB, float -> float64."""
    dtype = _dtype(a)
    y = _apply(a.reshape(a.shape[0], -1).astype(dtype), n_out, scale, dtype)
    return (_to_uint8(y) if a.dtype == np.uint8 else y).reshape(n_out, a.shape[1], a.shape[2])


def cols(a, n_out, scale):
    """The second dimension: ``rows`` of the pixel transpose."""
    return transpose_pixels(rows(transpose_pixels(a), n_out, scale))
