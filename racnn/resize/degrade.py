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

  Two engines compute it (``racnn.resize.compiled``; ``RACNN_RESIZE=auto|c|numpy``,
  recorded in database manifests as ``resize_engine``):

  - ``c`` (used whenever a C compiler is available): ``racnn/_resize.c``,
    compiled on first use: every output value is summed in double
    precision in tap order and rounded as MATLAB's ``imresizemex`` does
    (its AVX2 path sums in float32 and redoes in double every value whose
    rounding the float sum cannot decide: same bytes);
  - ``numpy`` (``racnn.resize.numpy_engine``): banded weight matrices applied with
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

from ..errors import RacnnError
from ..vocab import DEFAULT_DB_SIZE, DEFAULT_KERNEL, KERNELS
from . import compiled, numpy_engine


# ---------------------------------------------------------------- matlab ---


def _resize_hwc(a, out_h, out_w, scales, engine):
    """Resize an (H, W, C) array one dimension at a time, the one with the
    smaller scale first, rows first on a tie (MATLAB's order);
    ``engine.rows(a, n_out, scale)`` resizes the first axis,
    ``engine.cols(a, n_out, scale)`` the second (racnn.resize.compiled's engine or
    racnn.resize.numpy_engine)."""
    h, w, _ = a.shape
    sh = scales[0] if scales[0] is not None else out_h / float(h)
    sw = scales[1] if scales[1] is not None else out_w / float(w)
    if sw < sh:
        return engine.rows(engine.cols(a, out_w, scales[1]), out_h, scales[0])
    return engine.cols(engine.rows(a, out_h, scales[0]), out_w, scales[1])


def resize_engine():
    """``c`` (compiled, double precision) or ``numpy`` (float32 BLAS): the
    engine of the matlab kernel in this process (``racnn.resize.compiled``)."""
    return compiled.engine()


def prepare(kernel=DEFAULT_KERNEL):
    """Load what resizing 3-channel images uses (Pillow, for the matlab
    kernel the compiled engine, OpenCV unless nothing needs it) in this
    process.  The database builders call it before forking their workers,
    so the workers inherit it instead of each loading it again (OpenCV alone
    is 0.25 s of CPU).  Returns the matlab kernel's engine (``c`` or
    ``numpy``), or None for the other kernels."""
    from PIL import Image  # noqa: F401
    engine = resize_engine() if check_kernel(kernel) == "matlab" else None
    if not (engine == "c" and compiled.resizes_colour_rows()):
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
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = img.astype(np.float64)
    scales = (None, None) if scale is None else (float(scale), float(scale))
    a = img[:, :, None] if img.ndim == 2 else img
    passes = compiled.passes() if img.dtype == np.uint8 else None   # float: numpy, float64
    if passes is not None:
        out = _resize_hwc(a, int(out_hw[0]), int(out_hw[1]), scales, passes)
    else:
        with numpy_engine.single_blas_thread():
            out = _resize_hwc(a, int(out_hw[0]), int(out_hw[1]), scales, numpy_engine)
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


#: kernel K of racnn.vocab.KERNELS is the function imresize_K above
_KERNELS = {k: globals()["imresize_" + k] for k in KERNELS}


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
