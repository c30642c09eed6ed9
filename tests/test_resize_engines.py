"""Choosing and building the compiled resize engine (racnn/resize/compiled.py):
RACNN_RESIZE, a missing compiler, the cache folder behave as documented;
databases record the engine and hold exactly what degrade() gives with it.
(Its arithmetic: tests/test_resize_compiled.py.)"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from racnn import datasets
from racnn.resize import compiled as cresize
from racnn.db import lmdbio as db, manifest
from racnn.db.classification import build_classification_db
from racnn.resize.degrade import degrade, imresize, prepare, resize_engine
from racnn.errors import RacnnError
from racnn.paths import REPO


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


# ------------------------------------------------------------- databases ---

def _folder_dataset(root, checker):
    """Two classes: a 0/255 checkerboard (where the two engines part), a
    grey photo-like image, random colour images; PNG and JPEG."""
    import cv2
    rng = np.random.RandomState(5)
    yy, xx = np.indices((30, 40))
    images = {
        "a/checker.png": np.dstack([checker] * 3),
        "a/grey.png": np.clip(100 + 50 * np.sin(xx / 3.0) + 20 * np.cos(yy / 4.0), 0, 255)
        .astype(np.uint8)[:, :, None],
        "b/noise.jpg": rng.randint(0, 256, (37, 52, 3)).astype(np.uint8),
        "b/stripes.png": np.dstack([np.where(xx % 3 == 0, 255, 10).astype(np.uint8),
                                    rng.randint(0, 256, (30, 40)).astype(np.uint8), np.full((30, 40), 64, np.uint8)]),
    }
    for rel, img in images.items():
        path = os.path.join(root, "train", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        assert cv2.imwrite(path, img[:, :, 0] if img.shape[2] == 1 else img)
    return datasets.load("folder", root, "train")


def test_databases_record_and_use_the_engine(lib, tmp_path, engine_env, checker):
    ds = _folder_dataset(str(tmp_path / "data"), checker)
    res, size = 7, 21
    stored = {}
    for engine in ("c", "numpy"):
        out = str(tmp_path / engine)
        r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "build_lmdb.py"),
                            "--dataset", "folder", "--root", ds.root, "--split", "train",
                            "--res", str(res), "--size", str(size), "--out", out,
                            "--workers", "2"],
                           cwd=REPO, env=dict(os.environ, RACNN_RESIZE=engine),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        assert r.returncode == 0, r.stderr
        m = manifest.read_manifest(out)
        assert m["resize_engine"] == engine and m["kernel"] == "matlab" and m["count"] == 4
        engine_env(engine)
        by_id = {s.id: s for s in ds.samples}
        rows = list(db.iter_datums(out))
        assert len(rows) == 4
        for key, label, chw in rows:
            sample = by_id[key.split("_", 1)[1]]
            want = degrade(datasets.read_image(sample.path), res, size)
            assert label == sample.label
            np.testing.assert_array_equal(chw, want.transpose(2, 0, 1), err_msg="%s %s" % (
                engine, sample.path))
            stored[engine, sample.path] = chw
    # the databases differ where the engines do (the checkerboard), so the
    # engine asked for is the one the workers ran
    parted = [p for e, p in stored if e == "c" and not np.array_equal(stored["c", p],
                                                                      stored["numpy", p])]
    assert "checker.png" in [os.path.basename(p) for p in parted]
    # other kernels have no engine to record
    m = build_classification_db(ds, "train", res, str(tmp_path / "cv"), size=size,
                                   kernel="opencv", workers=1)
    assert "resize_engine" in m and m["resize_engine"] is None
