"""MATLAB's bicubic ``imresize`` rules, the part both engines share: the
Keys kernel (a = -0.5), the per-dimension taps and weights with MATLAB's
antialiasing, sample positions, tap-order normalisation and mirror padding
(``contributions``), and the pixel transpose the second pass uses.
``racnn.resize.degrade`` explains the rules; ``racnn.resize.compiled`` computes
the same weights in C, bit-identical."""
import math

import numpy as np


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
