"""Resizing kernels and the paper's degradation protocol.

``imresize(img, size_or_scale, kernel)`` resizes a uint8 (or float) image of
shape HxW or HxWxC with one of three kernels:

* ``matlab`` (default): MATLAB's ``imresize(A, ..., 'bicubic')``:

  - Keys cubic kernel with a = -0.5;
  - when shrinking by a scale ``s < 1`` the kernel is stretched to width
    ``4/s`` and scaled by ``s`` (antialiasing);
  - output pixel ``x`` (1-based) samples the input coordinate
    ``u = x/s + 0.5*(1 - 1/s)``; the taps are ``floor(u - width/2) + 0..P-1``
    with ``P = ceil(width) + 2``; weights are normalised to sum to 1;
  - borders by symmetric (mirror) padding;
  - each dimension is resized separately, the one with the smaller scale
    first (rows first on a tie);
  - a uint8 image stays uint8 after each dimension, rounded half away from
    zero and saturated to 0..255 as MATLAB's ``imresizemex`` does.

  The weights of one dimension are a sparse matrix (out x in), cached per
  (in, out), so resizing is two sparse matrix products.
* ``opencv``: ``cv2.resize(..., INTER_CUBIC)`` (a = -0.75, no antialiasing).
* ``pil``: Pillow's ``Image.resize(..., BICUBIC)`` (antialiased, a = -0.5,
  different centre and border handling from MATLAB).

``degrade(img, res, size, kernel)`` is the paper's protocol: resize to
``size x size`` (the network input), down to ``res x res``, back up to
``size x size``.  It is channel-order agnostic (BGR in, BGR out).
"""
import functools
import math

import numpy as np

from .errors import RacnnError
from .specs import DEFAULT_DB_SIZE, DEFAULT_KERNEL, KERNELS


# ---------------------------------------------------------------- matlab ---

def cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    x2, x3 = x * x, x * x * x
    return ((1.5 * x3 - 2.5 * x2 + 1.0) * (x <= 1)
            + (-0.5 * x3 + 2.5 * x2 - 4.0 * x + 2.0) * ((x > 1) & (x <= 2)))


def contributions(in_len, out_len, scale=None):
    """MATLAB's per-dimension ``(weights, indices)``: arrays of shape
    ``(out_len, P)``, indices 0-based and already mirrored into
    ``0..in_len-1``, weight columns that are zero everywhere removed."""
    if scale is None:
        scale = out_len / float(in_len)
    width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]            # 1-based
    dist = u[:, None] - idx
    w = scale * cubic(scale * dist) if scale < 1 else cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    # symmetric padding: 1..n, n..1 repeated
    period = 2 * in_len
    m = np.mod(idx - 1, period).astype(np.int64)
    m = np.where(m < in_len, m, period - 1 - m)
    keep = np.any(w != 0, axis=0)
    return w[:, keep], m[:, keep]


@functools.lru_cache(maxsize=64)
def _weight_matrix(in_len, out_len):
    """The (out_len x in_len) CSR matrix of one dimension's resize."""
    from scipy import sparse
    w, m = contributions(in_len, out_len)
    rows = np.repeat(np.arange(out_len), w.shape[1])
    mat = sparse.coo_matrix((w.ravel(), (rows, m.ravel())), shape=(out_len, in_len))
    return mat.tocsr()   # duplicate (mirrored) entries are summed


def matlab_round_uint8(x):
    """MATLAB's double -> uint8: round half away from zero, saturate."""
    return _round_inplace(np.array(x, dtype=np.float64))


def _round_inplace(x):
    # clipped to >= 0 first, so floor(x + 0.5) is "half away from zero";
    # in-place ufuncs because np.clip is slow in numpy 1.19
    np.maximum(x, 0.0, out=x)
    np.minimum(x, 255.0, out=x)
    x += 0.5
    np.floor(x, out=x)
    return x.astype(np.uint8)


def _resize_dim(a, dim, out_len, as_uint8):
    """Resize axis ``dim`` (0 or 1) of ``a`` to ``out_len``."""
    in_len = a.shape[dim]
    mat = _weight_matrix(in_len, out_len)
    moved = np.moveaxis(a, dim, 0)
    rest = moved.shape[1:]
    flat = np.ascontiguousarray(moved, dtype=np.float64).reshape(in_len, -1)
    out = mat.dot(flat)
    if as_uint8:
        out = _round_inplace(out)
    return np.moveaxis(out.reshape((out_len,) + rest), 0, dim)


def imresize_matlab(img, out_hw):
    """MATLAB bicubic ``imresize(img, [h w])``; uint8 in -> uint8 out,
    float in -> float64 out (no rounding)."""
    img = np.asarray(img)
    as_uint8 = img.dtype == np.uint8
    h, w = int(out_hw[0]), int(out_hw[1])
    scales = (h / float(img.shape[0]), w / float(img.shape[1]))
    order = sorted((0, 1), key=lambda d: scales[d])   # stable: rows first on a tie
    out = img
    for dim in order:
        out = _resize_dim(out, dim, (h, w)[dim], as_uint8)
    if not as_uint8:
        out = np.asarray(out, dtype=np.float64)
    return np.ascontiguousarray(out)


# ---------------------------------------------------------- other kernels ---

def imresize_opencv(img, out_hw):
    import cv2
    img = np.ascontiguousarray(img)
    return cv2.resize(img, (int(out_hw[1]), int(out_hw[0])), interpolation=cv2.INTER_CUBIC)


def imresize_pil(img, out_hw):
    from PIL import Image
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise RacnnError("the pil kernel resizes uint8 images only (got %s)" % img.dtype)
    size = (int(out_hw[1]), int(out_hw[0]))
    if img.ndim == 2:
        return np.asarray(Image.fromarray(img).resize(size, Image.BICUBIC))
    # Pillow handles 3-channel images as RGB; the kernel is channel-agnostic
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(img[:, :, c])).resize(size, Image.BICUBIC))
             for c in range(img.shape[2])]
    return np.stack(chans, axis=2)


_KERNELS = {"matlab": imresize_matlab, "opencv": imresize_opencv, "pil": imresize_pil}
assert set(_KERNELS) == set(KERNELS)


def check_kernel(kernel):
    """``kernel`` if it is a known kernel name, else a RacnnError."""
    if kernel not in _KERNELS:
        raise RacnnError("unknown resize kernel %r; valid: %s" % (kernel, ", ".join(KERNELS)))
    return kernel


def output_size(in_hw, size_or_scale):
    """(h, w) of the result: ``size_or_scale`` is an int (square side), a
    (h, w) pair, or a float scale (MATLAB: ``ceil(in * scale)``)."""
    if isinstance(size_or_scale, (tuple, list)):
        if len(size_or_scale) != 2:
            raise RacnnError("output size must be (height, width), got %r" % (size_or_scale,))
        h, w = size_or_scale
    elif isinstance(size_or_scale, (int, np.integer)):
        h = w = size_or_scale
    else:
        scale = float(size_or_scale)
        if not scale > 0:
            raise RacnnError("resize scale must be > 0, got %r" % size_or_scale)
        h, w = (int(math.ceil(in_hw[0] * scale)), int(math.ceil(in_hw[1] * scale)))
    h, w = int(h), int(w)
    if h < 1 or w < 1:
        raise RacnnError("output size must be at least 1x1, got %dx%d" % (h, w))
    return h, w


def imresize(img, size_or_scale, kernel=DEFAULT_KERNEL):
    """Resize an HxW or HxWxC image to ``size_or_scale`` (int side, (h, w)
    or float scale) with ``kernel`` (``matlab``, ``opencv`` or ``pil``)."""
    img = np.asarray(img)
    if img.ndim not in (2, 3) or img.shape[0] < 1 or img.shape[1] < 1:
        raise RacnnError("imresize needs an HxW or HxWxC image, got shape %s" % (img.shape,))
    out_hw = output_size(img.shape[:2], size_or_scale)
    return _KERNELS[check_kernel(kernel)](img, out_hw)


def degrade(img, res, size=DEFAULT_DB_SIZE, kernel=DEFAULT_KERNEL, return_hr=False):
    """The paper's low-resolution image: resize ``img`` to ``size x size``,
    down to ``res x res``, back up to ``size x size``.  With ``return_hr``
    return ``(lr, hr)`` where ``hr`` is the ``size x size`` image."""
    res, size = int(res), int(size)
    if res < 1 or size < 1:
        raise RacnnError("resolution and size must be positive, got res=%r size=%r" % (res, size))
    hr = imresize(img, (size, size), kernel)
    lr = imresize(imresize(hr, (res, res), kernel), (size, size), kernel)
    return (lr, hr) if return_hr else lr
