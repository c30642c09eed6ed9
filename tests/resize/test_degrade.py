"""The matlab kernel against values worked out by hand from MATLAB's
imresize rules (issue 4), written here as plain loops independent of
racnn.resize.degrade's vectorised code path; plus the other kernels and degrade()."""
import math
import os

import numpy as np
import pytest

from racnn.resize.degrade import degrade, imresize
from racnn.errors import RacnnError

from tests.support.matlab_rules import matlab_weights, mirror, reference


@pytest.fixture(autouse=True, params=["c", "numpy"])
def engine(request, monkeypatch):
    """Every test runs with both engines of the matlab kernel (RACNN_RESIZE)."""
    monkeypatch.setenv("RACNN_RESIZE", request.param)
    return request.param


# ------------------------------------------------------ the rules, by hand ---

def keys(t):
    """Keys' cubic, a = -0.5, written out piece by piece."""
    t = abs(t)
    if t <= 1:
        return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
    if t < 2:
        return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2
    return 0.0


def resize_1d_by_hand(values, out_len, scale=None):
    """One dimension, floats, no rounding: the rules of issue 4 as loops
    (its own cubic, ``t ** 3``, and a wider tap range than MATLAB's, the
    extra taps weighing 0; mirror from tests/support/matlab_rules.py)."""
    n = len(values)
    s = out_len / n if scale is None else scale
    out = []
    for x in range(1, out_len + 1):
        u = x / s + 0.5 * (1 - 1 / s)
        half = 2 / s if s < 1 else 2          # kernel half-width
        acc, total = 0.0, 0.0
        for j in range(int(math.floor(u - half)) - 1, int(math.ceil(u + half)) + 2):
            w = s * keys(s * (u - j)) if s < 1 else keys(u - j)
            acc += w * values[mirror(j, n) - 1]
            total += w
        out.append(acc / total)
    return out


def matlab_uint8(v):
    """double -> uint8 as MATLAB: round half away from zero, saturate."""
    return int(min(255, max(0, math.floor(v + 0.5))))


def resize_2d_by_hand(img, out_h, out_w):
    """uint8 2-D image, the smaller-scale dimension first, uint8 after each."""
    img = [list(map(int, row)) for row in img]
    h, w = len(img), len(img[0])

    def rows(a, n_out):   # along dimension 1 (down the columns)
        cols = [resize_1d_by_hand([a[r][c] for r in range(len(a))], n_out)
                for c in range(len(a[0]))]
        return [[matlab_uint8(cols[c][r]) for c in range(len(a[0]))] for r in range(n_out)]

    def cols(a, n_out):
        return [[matlab_uint8(v) for v in resize_1d_by_hand(row, n_out)] for row in a]

    if out_w / w < out_h / h:
        return rows(cols(img, out_w), out_h)
    return cols(rows(img, out_h), out_w)


def column(values):
    return np.array(values, dtype=np.uint8).reshape(-1, 1)


# ----------------------------------------------------------- worked values ---

def test_shrink_4_to_2_worked_by_hand():
    # s = 0.5: width 8, u = 1.5 and 3.5; taps j = -2..5 with weights
    # 0.5 * keys(0.5 * (u - j)); mirrored onto pixels 1..4 they sum to
    # (0.546875, 0.3984375, 0.1015625, -0.046875) for x = 1 (reversed for x = 2)
    assert resize_1d_by_hand([1, 0, 0, 0], 2)[0] == pytest.approx(0.546875)
    assert resize_1d_by_hand([0, 0, 0, 1], 2)[0] == pytest.approx(-0.046875)
    # [10 20 30 40] -> 14.609375, 35.390625 -> 15, 35
    out = imresize(column([10, 20, 30, 40]), (2, 1))
    assert out.ravel().tolist() == [15, 35]
    # a negative result saturates to 0
    assert imresize(column([0, 0, 0, 255]), (2, 1)).ravel().tolist() == [0, 139]


def test_enlarge_2_to_5_worked_by_hand():
    # s = 2.5: u = 0.4 x + 0.3 = 0.7, 1.1, 1.5, 1.9, 2.3; with [0 250]:
    # -26.25, 16.0, 125, 234.0, 276.25 -> 0, 16, 125, 234, 255 (saturated)
    out = imresize(column([0, 250]), (5, 1))
    assert out.ravel().tolist() == [0, 16, 125, 234, 255]
    assert resize_1d_by_hand([0, 100], 5)[:4] == pytest.approx([-10.5, 6.4, 50.0, 93.6])


@pytest.mark.parametrize("n_in,n_out", [(4, 2), (2, 5), (7, 3), (3, 7), (10, 4), (5, 13),
                                        (13, 5), (1, 3), (6, 1), (9, 9)])
def test_one_dimension_matches_hand_loops(n_in, n_out):
    rng = np.random.RandomState(n_in * 100 + n_out)
    vals = rng.randint(0, 256, n_in)
    want = [matlab_uint8(v) for v in resize_1d_by_hand(list(vals), n_out)]
    got = imresize(column(vals), (n_out, 1)).ravel().tolist()
    assert got == want
    # the same along the other dimension
    got_row = imresize(np.array([vals], dtype=np.uint8), (1, n_out)).ravel().tolist()
    assert got_row == want


def test_float_input_is_not_rounded():
    vals = np.array([[10.0], [20.0], [30.0], [40.0]])
    out = imresize(vals, (2, 1))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.ravel(), [14.609375, 35.390625], atol=1e-9)


@pytest.mark.parametrize("shape,out", [((7, 11), (3, 5)), ((6, 5), (13, 3)), ((5, 8), (12, 19)),
                                       ((9, 4), (4, 9))])
def test_two_dimensions_match_hand_loops(shape, out):
    rng = np.random.RandomState(sum(shape) + sum(out))
    img = rng.randint(0, 256, shape).astype(np.uint8)
    want = np.array(resize_2d_by_hand(img.tolist(), *out), dtype=np.uint8)
    np.testing.assert_array_equal(imresize(img, out), want)
    # colour images: every channel on its own
    rgb = np.stack([img, 255 - img, img[::-1]], axis=2)
    got = imresize(rgb, out)
    for c in range(3):
        np.testing.assert_array_equal(
            got[:, :, c], np.array(resize_2d_by_hand(rgb[:, :, c].tolist(), *out), np.uint8))


def test_dimension_order_matters_and_is_the_smaller_scale_first():
    """Rounding to uint8 between the passes makes the order visible; find an
    input where the two orders differ and check the smaller scale goes first."""
    rng = np.random.RandomState(3)
    for _ in range(50):
        img = rng.randint(0, 256, (9, 14)).astype(np.uint8)
        cols_first = np.array(resize_2d_by_hand(img.tolist(), 7, 5), np.uint8)   # 5/14 < 7/9
        rows_then_cols = [[matlab_uint8(v) for v in resize_1d_by_hand(row, 5)] for row in
                          np.array([[matlab_uint8(v) for v in resize_1d_by_hand(
                              img[:, c].tolist(), 7)] for c in range(14)]).T.tolist()]
        if not np.array_equal(cols_first, rows_then_cols):
            break
    else:
        pytest.fail("no input where the order matters; the test would be vacuous")
    np.testing.assert_array_equal(imresize(img, (7, 5)), cols_first)


def test_scale_argument_uses_the_given_scale():
    # imresize(A, 0.5) of a 5-pixel side: ceil(2.5) = 3 outputs, weights with s = 0.5
    vals = [10, 200, 30, 120, 60]
    want = [matlab_uint8(v) for v in resize_1d_by_hand(vals, 3, scale=0.5)]
    assert want != [matlab_uint8(v) for v in resize_1d_by_hand(vals, 3)]
    assert imresize(column(vals), 0.5).ravel().tolist() == want
    assert imresize(np.zeros((5, 8), np.uint8), 0.5).shape == (3, 4)


def test_constant_image_stays_constant_all_kernels():
    img = np.full((37, 23, 3), 77, np.uint8)
    for kernel in ("matlab", "opencv", "pil"):
        for size in ((11, 50), (100, 9)):
            out = imresize(img, size, kernel)
            assert out.shape == size + (3,) and out.dtype == np.uint8
            assert (out == 77).all(), kernel


def test_matlab_is_close_to_pil_but_not_opencv_when_shrinking():
    """Pillow's BICUBIC also antialiases with a = -0.5 (close to MATLAB);
    OpenCV's INTER_CUBIC does not antialias (far from it on fine detail)."""
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (120, 160, 3)).astype(np.uint8)
    m = imresize(img, (30, 40)).astype(int)
    p = imresize(img, (30, 40), "pil").astype(int)
    o = imresize(img, (30, 40), "opencv").astype(int)
    assert np.abs(m - p)[2:-2, 2:-2].mean() < 1.0
    assert np.abs(m - o).mean() > 5 * np.abs(m - p).mean()


def test_degrade_protocol():
    rng = np.random.RandomState(1)
    img = rng.randint(0, 256, (60, 80, 3)).astype(np.uint8)
    lr, hr = degrade(img, 10, 32, return_hr=True)
    assert lr.shape == hr.shape == (32, 32, 3)
    np.testing.assert_array_equal(hr, imresize(img, (32, 32)))
    np.testing.assert_array_equal(lr, imresize(imresize(hr, (10, 10)), (32, 32)))
    # a lower resolution loses more detail
    err = [np.abs(degrade(img, r, 32).astype(int) - hr).mean() for r in (4, 8, 16)]
    assert err[0] > err[1] > err[2] > 0
    # res == size leaves the resized image unchanged (matlab: identity weights)
    np.testing.assert_array_equal(degrade(img, 32, 32), hr)


def test_bad_arguments():
    img = np.zeros((4, 4), np.uint8)
    with pytest.raises(RacnnError, match="unknown resize kernel"):
        imresize(img, 2, "lanczos")
    with pytest.raises(RacnnError, match="at least 1x1"):
        imresize(img, (0, 3))
    with pytest.raises(RacnnError):
        imresize(np.zeros((2, 2, 2, 2), np.uint8), 3)
    with pytest.raises(RacnnError):
        degrade(img, 0, 8)


def test_real_photo_matches_double_precision_rules(shared):
    """The whole degrade() chain on a real photo against MATLAB's rules in
    double precision (tests/support/matlab_rules.reference: tap-order sums, MATLAB
    rounding after each dimension): the float32 engine may differ by one
    gray level where a value lies within ~1e-4 of a rounding tie, nowhere more."""
    from racnn import datasets
    ds = datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test")
    img = datasets.read_image(ds.samples[0].path)[40:190, 60:260]     # 150 x 200, real texture
    hr = reference(img, (64, 64), matlab_weights)
    want = reference(reference(hr, (20, 20), matlab_weights), (64, 64), matlab_weights)
    lr_got, hr_got = degrade(img, 20, 64, return_hr=True)
    for got, ref in ((hr_got, hr), (lr_got, want)):
        diff = np.abs(got.astype(int) - ref.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert (lr_got != hr_got).mean() > 0.5          # the degradation did something


def test_result_does_not_depend_on_the_blas_thread_count(shared, engine):
    """OpenBLAS rounds differently when it splits a product between threads;
    the numpy engine runs single-threaded so databases are reproducible
    anywhere."""
    from racnn import datasets
    from racnn.resize.numpy_engine import _openblas, set_blas_threads
    if engine != "numpy":
        pytest.skip("only the numpy engine uses BLAS")
    if _openblas() is None:
        pytest.skip("not OpenBLAS")
    ds = datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test")
    imgs = [datasets.read_sample(s)[0] for s in ds.samples[:12]]
    previous = set_blas_threads(1)
    try:
        one = [degrade(im, 25, 64) for im in imgs]
        set_blas_threads(2)
        two = [degrade(im, 25, 64) for im in imgs]
        assert _openblas().openblas_get_num_threads() == 2      # restored after each call
    finally:
        set_blas_threads(previous)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
