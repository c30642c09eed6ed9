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

  Two engines compute it (``racnn.cresize``; ``RACNN_RESIZE=auto|c|numpy``,
  recorded in database manifests as ``resize_engine``):

  - ``c`` (used whenever a C compiler is available): ``racnn/_resize.c``,
    compiled on first use: every output value is summed in double
    precision in tap order and rounded as MATLAB's ``imresizemex`` does
    (its AVX2 path sums in float32 and redoes in double every value whose
    rounding the float sum cannot decide: same bytes);
  - ``numpy`` (``racnn.npresize``): banded weight matrices applied with
    BLAS, in float32 for uint8 images (every input is exact; the result
    differs from double arithmetic only where a value lies within ~1e-4 of
    a rounding tie).
* ``opencv``: ``cv2.resize(..., INTER_CUBIC)`` (a = -0.75, no antialiasing).
* ``pil``: Pillow's ``Image.resize(..., BICUBIC)``: the same antialiased
  a = -0.5 kernel and sample positions, but the kernel is cut and
  renormalised at the borders instead of mirrored, the horizontal pass
  always comes first, and the arithmetic is 22-bit fixed point.

``degrade(img, res, size, kernel)`` is the paper's protocol: resize to
``size x size`` (the network input), down to ``res x res``, back up to
``size x size``.  It is channel-order agnostic (BGR in, BGR out).
"""
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
    # normalised by a sum in tap order, as MATLAB's sum(weights, 2) adds the
    # columns of its column-major matrix (numpy's w.sum(axis=1) adds 8 or
    # more values pairwise: the last bit can differ and flip an exact tie)
    total = w[:, 0].copy()
    for k in range(1, w.shape[1]):
        total += w[:, k]
    w = w / total[:, None]
    # symmetric padding: 1..n, n..1 repeated
    period = 2 * in_len
    m = np.mod(idx - 1, period).astype(np.int64)
    m = np.where(m < in_len, m, period - 1 - m)
    keep = np.any(w != 0, axis=0)
    return w[:, keep], m[:, keep]


def transpose_pixels(a):
    """Swap the first two axes of an (H, W, C) array (a copy): OpenCV's
    pixel transpose for uint8 images with 1-4 or 6 channels, numpy otherwise."""
    if a.dtype == np.uint8 and a.shape[2] in (1, 2, 3, 4, 6):
        import cv2
        return cv2.transpose(a).reshape(a.shape[1], a.shape[0], a.shape[2])
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _resize_hwc(a, out_h, out_w, scales, engine):
    """Resize an (H, W, C) array one dimension at a time, the one with the
    smaller scale first, rows first on a tie (MATLAB's order);
    ``engine.rows(a, n_out, scale)`` resizes the first axis,
    ``engine.cols(a, n_out, scale)`` the second (racnn.cresize's engine or
    racnn.npresize)."""
    h, w, _ = a.shape
    sh = scales[0] if scales[0] is not None else out_h / float(h)
    sw = scales[1] if scales[1] is not None else out_w / float(w)
    if sw < sh:
        return engine.rows(engine.cols(a, out_w, scales[1]), out_h, scales[0])
    return engine.cols(engine.rows(a, out_h, scales[0]), out_w, scales[1])


def resize_engine():
    """``c`` (compiled, double precision) or ``numpy`` (float32 BLAS): the
    engine of the matlab kernel in this process (``racnn.cresize``)."""
    from .cresize import engine
    return engine()


def prepare(kernel=DEFAULT_KERNEL):
    """Load what resizing 3-channel images uses (Pillow, for the matlab
    kernel the compiled engine, OpenCV unless nothing needs it) in this
    process.  The database builders call it before forking their workers,
    so the workers inherit it instead of each loading it again (OpenCV alone
    is 0.25 s of CPU).  Returns the matlab kernel's engine (``c`` or
    ``numpy``), or None for the other kernels."""
    from PIL import Image  # noqa: F401
    from .cresize import resizes_colour_rows
    engine = resize_engine() if check_kernel(kernel) == "matlab" else None
    if not (engine == "c" and resizes_colour_rows()):
        import cv2  # noqa: F401       transposes, colour conversion, the opencv kernel
    return engine


def channel_order_free(kernel=DEFAULT_KERNEL):
    """True when ``kernel`` computes every channel independently of its
    place in memory, so an RGB image resized and then reversed is
    bit-identical to the BGR image resized: every kernel except the numpy
    engine of matlab (float32 BLAS rounds a value near a tie according to
    its place)."""
    return kernel != "matlab" or resize_engine() == "c"


def imresize_matlab(img, out_hw, scale=None):
    """MATLAB bicubic ``imresize(img, [h w])`` (or ``imresize(img, scale)``
    when ``scale`` is given: the weights then use that scale, as MATLAB
    does, not out/in); uint8 in -> uint8 out, float in -> float64 out."""
    from . import cresize, npresize
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = img.astype(np.float64)
    scales = (None, None) if scale is None else (float(scale), float(scale))
    a = img[:, :, None] if img.ndim == 2 else img
    compiled = cresize.passes() if img.dtype == np.uint8 else None   # float: numpy, float64
    if compiled is not None:
        out = _resize_hwc(a, int(out_hw[0]), int(out_hw[1]), scales, compiled)
    else:
        with npresize.single_blas_thread():
            out = _resize_hwc(a, int(out_hw[0]), int(out_hw[1]), scales, npresize)
    return out[:, :, 0] if img.ndim == 2 else out


# ---------------------------------------------------------- other kernels ---

def imresize_opencv(img, out_hw, scale=None):
    import cv2
    img = np.ascontiguousarray(img)
    return cv2.resize(img, (int(out_hw[1]), int(out_hw[0])), interpolation=cv2.INTER_CUBIC)


def imresize_pil(img, out_hw, scale=None):
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
    scale = size_or_scale if isinstance(size_or_scale, float) else None
    return _KERNELS[check_kernel(kernel)](img, out_hw, scale)


def degrade(img, res, size=DEFAULT_DB_SIZE, kernel=DEFAULT_KERNEL, return_hr=False,
            layout="HWC", reverse_channels=False):
    """The paper's low-resolution image: resize ``img`` (HxWxC) to ``size x
    size``, down to ``res x res``, back up to ``size x size``; ``res ==
    size`` gives the resized image.  With ``return_hr`` return ``(lr, hr)``
    where ``hr`` is the ``size x size`` image.  ``layout="CHW"`` returns
    channel-first arrays (a Datum's layout) without an extra copy;
    ``reverse_channels`` reverses the channel order (RGB in, BGR out) in
    the same copy."""
    res, size = int(res), int(size)
    if res < 1 or size < 1:
        raise RacnnError("resolution and size must be positive, got res=%r size=%r" % (res, size))
    if layout not in ("HWC", "CHW"):
        raise RacnnError("layout must be HWC or CHW, not %r" % layout)
    img = np.asarray(img)
    hr = imresize(img, (size, size), kernel)
    lr = hr if res == size else imresize(imresize(hr, (res, res), kernel), (size, size), kernel)
    out = (lr, hr) if return_hr else (lr,)
    if reverse_channels:
        out = tuple(np.atleast_3d(x)[:, :, ::-1] for x in out)
        if layout == "HWC":
            out = tuple(np.ascontiguousarray(x) for x in out)
    if layout == "CHW":
        out = tuple(np.ascontiguousarray(np.atleast_3d(x).transpose(2, 0, 1)) for x in out)
    return out if return_hr else out[0]
