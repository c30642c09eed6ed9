"""The demo's synthetic fine-grained dataset (racnn.datasets.synthetic,
tools/make_synthetic.py): seeded, ordinary JPEGs in the folder-per-class
layout that the ``folder`` adapter reads, and classes whose only difference
is a fine grating that the paper's degradation blurs away."""
import filecmp
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from racnn import datasets
from racnn.resize import degrade
from racnn.datasets import synthetic
from racnn.errors import RacnnError
from racnn.paths import REPO


SMALL = dict(num_classes=8, train_per_class=3, test_per_class=2)


def test_same_seed_same_files_other_seed_other_images(tmp_path):
    a, b, c = (str(tmp_path / n) for n in "abc")
    synthetic.generate(a, seed=5, **SMALL)
    synthetic.generate(b, seed=5, **SMALL)
    synthetic.generate(c, seed=6, **SMALL)
    files = sorted(os.path.relpath(os.path.join(d, f), a)
                   for d, _, fs in os.walk(a) for f in fs)
    assert len([f for f in files if f.endswith(".jpg")]) == 8 * 5
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors
    jpgs = [f for f in files if f.endswith(".jpg")]
    _, mismatch, _ = filecmp.cmpfiles(a, c, jpgs, shallow=False)
    assert len(mismatch) == len(jpgs)


def test_folder_adapter_reads_the_layout_in_class_order(tmp_path):
    root = str(tmp_path / "syn")
    info = synthetic.generate(root, **SMALL)
    names = synthetic.class_names(8)
    assert info["class_names"] == names and names[5] == "c5_stripes090_p1.4"
    for split, per_class in (("train", 3), ("test", 2)):
        ds = datasets.load("folder", root, split)
        assert ds.class_names == names and len(ds) == 8 * per_class
        for s in ds.samples:
            assert os.path.basename(os.path.dirname(s.path)) == names[s.label]
            assert os.path.basename(s.path).startswith(split + "_") and s.box is None
    img = cv2.imread(ds.samples[0].path)
    assert img.shape == (96, 96, 3) and img.dtype == np.uint8


def test_existing_dataset_is_reused_or_refused(tmp_path):
    root = str(tmp_path / "syn")
    synthetic.generate(root, **SMALL)
    jpg = os.path.join(root, "c0_stripes000_p1.0", "train_0000.jpg")
    mtime = os.path.getmtime(jpg)
    synthetic.generate(root, **SMALL)                        # same parameters: kept
    assert os.path.getmtime(jpg) == mtime
    with pytest.raises(RacnnError, match="other parameters"):
        synthetic.generate(root, num_classes=4, train_per_class=3, test_per_class=2)
    synthetic.generate(root, num_classes=4, train_per_class=3, test_per_class=2,
                       overwrite=True)
    assert len(datasets.load("folder", root, "train").class_names) == 4
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("mine")
    with pytest.raises(RacnnError, match="not a synthetic dataset"):
        synthetic.generate(str(other), **SMALL)
    with pytest.raises(RacnnError, match="num_classes must be 2..8"):
        synthetic.generate(str(tmp_path / "bad"), num_classes=9)


def _texture_amplitude(img, label):
    """Amplitude of the class's texture: FFT magnitude on the ring of its
    fundamental frequency (stripes: 1/period; checkerboards, a product of
    two gratings: sqrt(2)/period)."""
    _, angles, pmult = synthetic._factors(8)[label]
    g = img.astype(np.float64).mean(axis=2)
    g -= g.mean()
    n = g.shape[0]
    f = np.abs(np.fft.fft2(g)) / (n * n)
    fy, fx = np.meshgrid(np.fft.fftfreq(n) * n, np.fft.fftfreq(n) * n, indexing="ij")
    radius = np.sqrt(len(angles)) * n / (synthetic.DEFAULTS["detail"] * n * pmult)
    ring = np.abs(np.hypot(fx, fy) - radius) <= 1.5
    return np.sqrt((f[ring] ** 2).sum())


def test_low_resolution_blurs_the_class_detail_away():
    """At the demo's 72 -> 16 -> 72 (the paper's 227 -> 50 -> 227 factor) the
    texture that carries the class keeps little of its amplitude, the finer
    checkerboards least."""
    kept = {}
    for label in range(8):
        for i in range(6):
            img = synthetic.render(np.random.RandomState([0, label, 0, i]), label)
            lr, hr = degrade.degrade(img, 16, 72, return_hr=True)
            kept.setdefault(label, []).append(_texture_amplitude(lr, label)
                                              / _texture_amplitude(hr, label))
    kept = {label: np.median(v) for label, v in kept.items()}
    assert kept[2] < 0.3 and kept[3] < 0.3, kept            # fine checkerboards: ~gone
    assert all(v < 0.85 for v in kept.values()), kept       # every class loses detail
    assert kept[3] < kept[7] < kept[5] and kept[0] < kept[4], kept   # finer loses more


def test_make_synthetic_tool(tmp_path):
    out = str(tmp_path / "syn")
    proc = subprocess.run([sys.executable, "tools/make_synthetic.py", "--out", out,
                           "--classes", "3", "--train", "2", "--test", "1"], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert proc.returncode == 0, proc.stderr
    assert "3 classes, 6 training + 3 test images" in proc.stdout
    proc = subprocess.run([sys.executable, "tools/make_synthetic.py", "--out", out,
                           "--classes", "12"], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    assert proc.returncode == 2 and "num_classes must be 2..8" in proc.stderr
