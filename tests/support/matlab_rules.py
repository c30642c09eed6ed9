"""MATLAB's bicubic imresize rules (racnn.resize.degrade's docstring) written one
number at a time, independent of racnn.resize.degrade's vectorised code, for the
tests to compare the engines against (tests/resize/test_compiled.py,
tests/resize/test_degrade.py)."""
import math

import numpy as np


def cubic(t):
    """MATLAB's ``cubic`` (Keys, a = -0.5) on one number; ``absx.^3`` written
    as a*a*a (as racnn.resize.degrade.cubic)."""
    a = abs(t)
    a2, a3 = a * a, a * a * a
    return ((1.5 * a3 - 2.5 * a2 + 1.0) * (a <= 1)
            + (-0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0) * (1 < a <= 2))


def mirror(j, n):
    """Symmetric padding of a 1-based index."""
    while j < 1 or j > n:
        j = 1 - j if j < 1 else 2 * n + 1 - j
    return j


def matlab_weights(in_len, out_len, scale=None):
    """One dimension's weights and 0-based indices, from the rules in
    racnn.resize.degrade's docstring (MATLAB's ``contributions``), one number at a
    time; the weights are normalised by their sum taken in tap order."""
    s = out_len / in_len if scale is None else scale
    width = 4.0 / s if s < 1 else 4.0
    taps = int(math.ceil(width)) + 2
    weights, indices = [], []
    for x in range(1, out_len + 1):
        u = x / s + 0.5 * (1 - 1 / s)
        left = int(math.floor(u - width / 2))
        w = [s * cubic(s * (u - j)) if s < 1 else cubic(u - j)
             for j in range(left, left + taps)]
        total = 0.0
        for v in w:
            total += v
        weights.append([v / total for v in w])
        indices.append([mirror(j, in_len) - 1 for j in range(left, left + taps)])
    return weights, indices


def reference(img, out_hw, weights_of, scale=None):
    """imresize by the rules: each output value the sum over its taps, in
    tap order, in double precision, of weight x input; uint8 rounded half
    away from zero and saturated after each dimension; the dimension with
    the smaller scale first (rows on a tie)."""
    a = np.asarray(img, np.float64)
    a = a[:, :, None] if a.ndim == 2 else a
    (h, w, c), (oh, ow) = a.shape, out_hw
    sh, sw = (oh / h, ow / w) if scale is None else (scale, scale)

    def rows(a, n_out):
        wts, idx = weights_of(a.shape[0], n_out, scale)
        x = a.reshape(a.shape[0], -1)
        out = np.empty((n_out, x.shape[1]))
        for j in range(n_out):
            acc = wts[j][0] * x[idx[j][0]]
            for k in range(1, len(wts[j])):
                acc = acc + wts[j][k] * x[idx[j][k]]
            out[j] = acc
        return np.floor(np.clip(out, 0, 255) + 0.5).reshape(n_out, a.shape[1], c)

    def cols(a, n_out):
        return rows(a.transpose(1, 0, 2), n_out).transpose(1, 0, 2)

    out = rows(cols(a, ow), oh) if sw < sh else cols(rows(a, oh), ow)
    out = out.astype(np.uint8)
    return out[:, :, 0] if np.ndim(img) == 2 else out
