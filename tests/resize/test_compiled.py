"""The compiled engine of the matlab resize kernel (racnn/resize/_resize.c,
built by racnn/resize/compiled.py).  Its arithmetic: it compiles without a
warning; its portable and AVX2 paths agree bit for bit; its weights are
racnn.resize.matlab_rules.contributions'; it equals a double-precision
reference of MATLAB's rules summed in tap order; the numpy engine stays
within one gray level of it.  Choosing and building it: RACNN_RESIZE, a
missing compiler, the cache folder behave as documented.  (Databases that
record the engine: tests/db/test_classification.py; the Dockerfiles' kernel
build: tests/docker/test_dockerfiles.py.)"""
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from racnn.errors import RacnnError
from racnn.paths import REPO
from racnn.resize import compiled as cresize
from racnn.resize.matlab_rules import contributions
from racnn.resize.degrade import degrade, imresize, prepare, resize_engine
from tests.support.matlab_rules import matlab_weights, reference


@contextlib.contextmanager
def forced(lib, path):
    lib.racnn_resize_force_path(path)
    try:
        assert lib.racnn_resize_path() == path
        yield
    finally:
        lib.racnn_resize_force_path(-1)


def cpu_has_avx2():
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    with open("/proc/cpuinfo") as fh:
        return any(line.startswith("flags") and " avx2" in line for line in fh)


# ------------------------------------------------------------- images ---

def random_shape(rng, lo=1, hi=100):
    h, w = (int(v) for v in rng.randint(lo, hi + 1, 2))
    form = ("hw", "hw1", "hw3")[rng.randint(3)]
    return (h, w) if form == "hw" else (h, w, 1 if form == "hw1" else 3)


def output_size(rng, h, w, mode):
    def shrink(n):
        return int(rng.randint(1, n + 1))

    def enlarge(n):
        return int(rng.randint(n, 2 * n + 4))
    if mode == "shrink":
        return shrink(h), shrink(w)
    if mode == "enlarge":
        return enlarge(h), enlarge(w)
    return (shrink(h), enlarge(w)) if rng.randint(2) else (enlarge(h), shrink(w))


def adversarial(rng, shape):
    """Images whose resized values often land exactly on a rounding tie."""
    h, w = shape[:2]
    yy, xx = np.indices((h, w))
    a, b = (0, 255) if rng.randint(2) else tuple(int(v) for v in rng.randint(0, 256, 2))
    kind = rng.randint(8)
    if kind == 0:
        img = np.full((h, w), a)
    elif kind == 1:
        img = np.where((yy + xx) % 2 == 0, a, b)
    elif kind == 2:
        period = int(rng.randint(1, 4))
        img = np.where((yy // period) % 2 == 0, a, b)
    elif kind == 3:
        period = int(rng.randint(1, 4))
        img = np.where((xx // period) % 2 == 0, a, b)
    elif kind == 4:
        img = rng.randint(0, 2, (h, w)) * 255
    else:
        step = (2, 4, 64)[kind - 5]
        img = rng.randint(0, 256 // step + 1, (h, w)) * step
    img = np.clip(img, 0, 255).astype(np.uint8)
    if len(shape) == 3:
        img = np.repeat(img[:, :, None], shape[2], axis=2)
        if shape[2] == 3 and rng.randint(2):
            img[:, :, 1] = 255 - img[:, :, 1]
    return img


def random_image(rng, shape):
    return rng.randint(0, 256, shape).astype(np.uint8)


# -------------------------------------------------- portable vs AVX2 path ---

def test_portable_and_avx2_paths_agree_bit_for_bit(lib, engine_env):
    if not cpu_has_avx2():
        pytest.skip("this CPU has no AVX2: only the portable path can run")
    engine_env("c")
    rng = np.random.RandomState(20240611)
    cases = 0
    for i in range(400):
        shape = random_shape(rng)
        img = (adversarial if i % 2 else random_image)(rng, shape)
        if i % 5 == 0:
            size = float(rng.uniform(0.05, 2.5))             # imresize(A, scale)
        else:
            size = output_size(rng, shape[0], shape[1], ("shrink", "enlarge", "mixed")[i % 3])
        if i % 7 == 0 and shape[0] > 2:
            img = img[1:-1:2]                                   # a non-contiguous view
        with forced(lib, 0):
            portable = imresize(img, size)
        with forced(lib, 1):
            avx2 = imresize(img, size)
        assert portable.shape == avx2.shape and portable.dtype == avx2.dtype == np.uint8
        if not np.array_equal(portable, avx2):
            diff = np.argwhere(portable != avx2)[:5].tolist()
            pytest.fail("paths differ: image %s (case %d) -> %r at %s" % (img.shape, i, size, diff))
        cases += 1
    assert cases == 400 and lib.racnn_resize_path() == 1      # auto again: AVX2 here


def test_the_source_compiles_without_a_single_warning(tmp_path):
    """The engine's flags plus -Wextra, every warning an error: an
    undeclared function (aligned_alloc under -std=c99 once was one: an
    int-returning guess that truncates the pointer) cannot slip through."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc here")
    res = subprocess.run([gcc] + list(cresize.CFLAGS) + ["-Wextra", "-Werror", cresize.SOURCE,
                                                         "-o", str(tmp_path / "x.so")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    assert res.returncode == 0, res.stdout


def test_compiled_weights_are_contributions_bit_for_bit(lib):
    """The library's weights and indices (racnn_contributions, used by the
    compiled engine) are racnn.resize.degrade.contributions' exactly: shrinking,
    enlarging, identity, 1-pixel sides, given scales."""
    rng = np.random.RandomState(11)
    cases = [(1, 1, None), (1, 7, None), (7, 1, None), (500, 227, None), (375, 227, None),
             (227, 50, None), (50, 227, None), (227, 227, None), (6, 1, None), (10, 4, 0.4),
             (9, 8, 0.85), (2000, 25, None)]
    cases += [(int(a), int(b), None) for a, b in rng.randint(1, 700, (300, 2))]
    cases += [(int(a), int(math.ceil(a * sc)), float(sc))
              for a, sc in zip(rng.randint(1, 300, 60), rng.uniform(0.05, 4.0, 60))]
    for in_len, out_len, scale in cases:
        want_w, want_m = contributions(in_len, out_len, scale)
        got_w, got_m = cresize.contributions(lib, in_len, out_len, scale)
        assert got_w.shape == want_w.shape, (in_len, out_len, scale)
        assert np.array_equal(got_w.view(np.int64), want_w.view(np.int64)), \
            (in_len, out_len, scale)                                      # the bits
        assert np.array_equal(got_m, want_m), (in_len, out_len, scale)
        assert got_w.dtype == np.float64 and got_m.dtype == np.int32
        assert got_w.flags.c_contiguous and got_m.flags.c_contiguous


def test_force_path_reports_and_resets(lib):
    auto = lib.racnn_resize_path()
    with forced(lib, 0):
        assert lib.racnn_resize_path() == 0
    assert lib.racnn_resize_path() == auto == (1 if cpu_has_avx2() else 0)


# ------------------------------------------ against MATLAB's rules by hand ---
# (matlab_weights and reference: tests/support/matlab_rules.py)

def numpy_weights(in_len, out_len, scale=None):
    """The weights the engine is given (racnn.resize.matlab_rules.contributions)."""
    w, m = contributions(in_len, out_len, scale)
    return w.tolist(), m.tolist()


def small_cases(rng, n, min_scale):
    """(image, output size) with sides 1..24 and both scales >= min_scale."""
    for i in range(n):
        shape = random_shape(rng, 1, 24)
        h, w = shape[:2]
        lo_h, lo_w = max(1, int(math.ceil(min_scale * h))), max(1, int(math.ceil(min_scale * w)))
        oh, ow = (int(rng.randint(lo, 2 * n_in + 4)) for lo, n_in in ((lo_h, h), (lo_w, w)))
        yield (adversarial if i % 2 else random_image)(rng, shape), (oh, ow)


def assert_same(got, want, what):
    if not np.array_equal(got, want):
        where = np.argwhere(got != want)
        pytest.fail("%s: %d value(s) differ, first at %s: engine %s, reference %s"
                    % (what, len(where), where[0].tolist(), got[tuple(where[0])],
                       want[tuple(where[0])]))


def scale_085_cases(rng):
    """imresize(A, 0.85): the weights use that scale, not out/in."""
    for n in (4, 5, 10, 17):
        img = random_image(rng, (n, n + 1, 3))
        hw = (int(math.ceil(n * 0.85)), int(math.ceil((n + 1) * 0.85)))
        yield img, 0.85, hw, 0.85


def column_tie_case(rng):
    """A 6x1 column shrunk to 1x1, an exact tie: normalising the weights by
    numpy's pairwise row sum instead of a sum in tap order flipped it (128
    instead of 127)."""
    yield np.array([255, 255, 255, 0, 0, 0], np.uint8).reshape(6, 1), (1, 1), (1, 1), None


@pytest.mark.parametrize("seed,count,min_scale,extra", [
    # enlarging and shrinking down to a scale of 0.8 (at most 7 taps)
    pytest.param(7, 400, 0.8, scale_085_cases, id="down-to-0.8-and-scale-0.85"),
    # below a scale of 0.8 (8 taps or more)
    pytest.param(8, 200, 0.05, column_tie_case, id="below-0.8-and-6x1-column"),
])
def test_engine_equals_matlab_rules_exactly(lib, engine_env, seed, count, min_scale, extra):
    """The engine equals the rules worked one number at a time, bit for bit,
    on random and tie-prone images, the weights being normalised by a sum in
    tap order; ``extra`` cases are (image, imresize's argument, output size,
    scale for the weights)."""
    engine_env("c")
    rng = np.random.RandomState(seed)
    cases = [(img, out, out, None) for img, out in small_cases(rng, count, min_scale)]
    cases += list(extra(rng))                 # drawn after the small cases, from the same rng
    failures = []
    for i, (img, arg, hw, scale) in enumerate(cases):
        got, want = imresize(img, arg), reference(img, hw, matlab_weights, scale)
        if not np.array_equal(got, want):
            where = np.argwhere(got != want)
            failures.append("case %d: %s -> %r: %d value(s) differ, first at %s: engine %s, "
                            "reference %s" % (i, img.shape, arg, len(where), where[0].tolist(),
                                              got[tuple(where[0])], want[tuple(where[0])]))
    assert not failures, "%d of %d cases differ: %s" % (len(failures), len(cases), failures[:5])


def test_engine_is_a_tap_order_double_sum_of_its_weights(lib, engine_env):
    """At every scale, the engine's value is the tap-order double sum of the
    weights it is given, rounded as MATLAB: the C code adds nothing of its own."""
    engine_env("c")
    rng = np.random.RandomState(9)
    for i, (img, out) in enumerate(small_cases(rng, 400, 0.05)):
        assert_same(imresize(img, out), reference(img, out, numpy_weights),
                    "case %d: %s -> %s" % (i, img.shape, out))


# ------------------------------------------------------ compiled vs numpy ---

def test_numpy_engine_within_one_level_of_the_compiled_one(lib, engine_env, checker):
    rng = np.random.RandomState(11)
    imgs = [random_image(rng, (int(rng.randint(40, 120)), int(rng.randint(40, 120)), 3))
            for _ in range(6)]
    yy, xx = np.indices((90, 70))
    smooth = (127 + 60 * np.sin(xx / 7.0) * np.cos(yy / 5.0) + rng.normal(0, 8, (90, 70)))
    imgs.append(np.dstack([np.clip(smooth, 0, 255).astype(np.uint8)] * 3))
    results = {}
    for name in ("c", "numpy"):
        engine_env(name)
        assert resize_engine() == name
        results[name] = [degrade(im, 16, 64) for im in imgs] + [imresize(im, (33, 141)) for im in imgs]
    total = differ = 0
    for a, b in zip(results["c"], results["numpy"]):
        d = np.abs(a.astype(int) - b.astype(int))
        assert d.max() <= 1
        total, differ = total + d.size, differ + int((d > 0).sum())
    assert differ <= 1e-3 * total, "%d of %d values differ" % (differ, total)
    # the switch is real: on an exact-tie image the engines part
    checker = np.dstack([checker] * 3)
    engine_env("c")
    a = degrade(checker, 7, 21)
    engine_env("numpy")
    b = degrade(checker, 7, 21)
    d = np.abs(a.astype(int) - b.astype(int))
    assert d.max() == 1


# ---------------------------------------------------- RACNN_RESIZE, compiler ---

def test_racnn_resize_numpy_and_bogus(lib, engine_env):
    engine_env("numpy")
    assert resize_engine() == "numpy" and prepare("matlab") == "numpy"
    assert cresize.load() is None
    assert prepare("opencv") is None and prepare("pil") is None
    engine_env("c")
    assert resize_engine() == "c" and prepare("matlab") == "c"
    engine_env("bogus")
    with pytest.raises(RacnnError, match=r"RACNN_RESIZE='bogus': use one of auto, c, numpy"):
        resize_engine()
    with pytest.raises(RacnnError, match="RACNN_RESIZE"):
        imresize(np.zeros((4, 4), np.uint8), 2)


_NO_COMPILER = """
import json, os, sys, warnings
import numpy as np
from racnn.resize.degrade import degrade, resize_engine
img = np.load(sys.argv[1])                    # the checker fixture: engines part
out = {}
with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    for engine in ("numpy", "c", "auto"):      # one process: the caches see all three
        os.environ["RACNN_RESIZE"] = engine
        try:
            got = [degrade(img, 7, 21).tolist(), resize_engine()]
        except Exception as exc:
            got = [type(exc).__name__, str(exc)]
        out[engine] = [got, [(w.category.__name__, str(w.message)) for w in rec]]   # so far
print(json.dumps(out))
"""


def test_no_compiler_c_is_an_error_auto_falls_back_once(lib, tmp_path, engine_env, fresh_python,
                                                        checker):
    ext = tmp_path / "ext"
    ext.mkdir()
    cc = str(tmp_path / "no" / "such-cc")
    np.save(str(tmp_path / "checker.npy"), checker)
    res = fresh_python(_NO_COMPILER, {"CC": cc, "RACNN_EXT_DIR": str(ext)},
                       args=[str(tmp_path / "checker.npy")])
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    # numpy asked for: no compiler needed, no warning
    assert out["numpy"][0][1] == "numpy" and out["numpy"][1] == []
    # c: an error naming the variable and the reason
    kind, message = out["c"][0]
    assert kind == "RacnnError"
    assert "RACNN_RESIZE=c" in message and "no C compiler" in message and cc in message
    # auto: the numpy engine, with exactly one warning that names the reason
    assert out["auto"][0][1] == "numpy"
    warns = out["auto"][1]
    assert len(warns) == 1 and warns[0][0] == "RacnnWarning", warns
    assert "no C compiler" in warns[0][1] and cc in warns[0][1] and "numpy" in warns[0][1]
    # and its pixels are the numpy engine's, not the compiled one's
    engine_env("numpy")
    assert out["auto"][0][0] == out["numpy"][0][0] == degrade(checker, 7, 21).tolist()
    engine_env("c")
    assert out["auto"][0][0] != degrade(checker, 7, 21).tolist()
    assert os.listdir(str(ext)) == []


def test_tool_reports_an_unusable_engine_in_one_line(tmp_path, unchosen_env):
    import cv2
    photo = str(tmp_path / "p.png")
    cv2.imwrite(photo, np.full((20, 30, 3), 90, np.uint8))
    tool = [sys.executable, os.path.join(REPO, "tools", "degrade.py"), photo, "--res", "4",
            "--size", "16", "--out", str(tmp_path / "out")]
    env = unchosen_env(RACNN_RESIZE="c", CC=str(tmp_path / "nocc"),
                       RACNN_EXT_DIR=str(tmp_path / "ext"))
    res = subprocess.run(tool, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert re.fullmatch(r"degrade\.py: error: RACNN_RESIZE=c but the compiled resize kernel is "
                        r"unavailable: no C compiler \(\S+/nocc\) found\n", res.stderr), res.stderr
    assert not os.path.exists(str(tmp_path / "out" / "p_lr4.png"))


# --------------------------------------------------------- cache folder ---

def test_unwritable_first_folder_falls_through_to_the_next(fresh_python, unprivileged):
    """Without RACNN_EXT_DIR the library goes to <repo>/build/ext, else
    ~/.cache/racnn/ext: with the first read-only, it lands in the second.
    Run from a copy of the package (so <repo> is ours to lock), as an
    unprivileged user when we are root (root writes anywhere)."""
    top = unprivileged.top
    repo = os.path.join(top, "repo")
    shutil.copytree(os.path.join(REPO, "racnn"), os.path.join(repo, "racnn"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    locked = os.path.join(repo, "build", "ext")
    os.makedirs(locked)
    home = os.path.join(top, "home")
    os.makedirs(home)
    if unprivileged.uid is not None:
        os.chown(home, unprivileged.uid, unprivileged.uid)
    else:
        os.chmod(locked, 0o555)
        if os.access(locked, os.W_OK):
            pytest.skip("permissions do not bite for this user")
    res = fresh_python("from racnn.resize import compiled; print(compiled.__file__, compiled.load()._name)",
                       {"RACNN_RESIZE": "c", "HOME": home, "PYTHONDONTWRITEBYTECODE": "1",
                        "PYTHONPATH": ""}, cwd=repo, prefix=unprivileged.prefix)
    assert res.returncode == 0, res.stderr
    module, loaded = res.stdout.split()
    assert module == os.path.join(repo, "racnn", "resize", "compiled.py")
    want = os.path.join(home, ".cache", "racnn", "ext",
                        cresize.library_name(shutil.which("gcc")))
    assert loaded == want
    assert os.listdir(locked) == []
    assert os.listdir(os.path.dirname(want)) == [os.path.basename(want)]
