"""SR views: LR-upscaled | SR | HR strips with PSNR, on real SR nets."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import caffe
import _evalkit as kit
from racnn.report import srview
from racnn.errors import RacnnError
from racnn.nets import build_sr_deploy
from racnn.nets.dummy import write_temp_net


def _photos(n=2, side=60, seed=0):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    out = []
    for i in range(n):
        img = np.stack([128 + 100 * np.sin(xx / (3.0 + i) + c) * np.cos(yy / 5.0)
                        for c in range(3)], axis=2) + rng.normal(0, 5, (side, side, 3))
        out.append(("p%d.png" % i, np.clip(img, 0, 255).astype(np.uint8)))
    return out


@pytest.fixture(scope="module")
def identity_sr(tmp_path_factory):
    """SR weights whose sconv3 is zero: sum = data, SR output = LR input."""
    path = write_temp_net(build_sr_deploy(32, 32))
    try:
        net = caffe.Net(path, caffe.TEST)
    finally:
        os.unlink(path)
    for name in ("sconv1", "sconv2"):
        net.params[name][0].data[...] = np.random.RandomState(0).normal(
            0, 0.01, net.params[name][0].data.shape)
    for blob in net.params["sconv3"]:
        blob.data[...] = 0
    out = str(tmp_path_factory.mktemp("sr") / "identity.caffemodel")
    net.save(out)
    return out


def test_psnr():
    a = np.full((4, 4, 3), 100, np.uint8)
    assert srview.psnr(a, a) == float("inf")
    assert srview.psnr(a, a + 1) == pytest.approx(20 * math.log10(255))
    with pytest.raises(RacnnError, match="different shapes"):
        srview.psnr(a, a[:2])


def test_zero_residual_gives_the_lr_image(identity_sr, tmp_path):
    views = srview.sr_views(identity_sr, _photos(), res=12, size=48)
    for v in views:
        assert v.lr.shape == v.hr.shape == v.sr.shape == (48, 48, 3)
        assert np.array_equal(v.sr, v.lr) and v.psnr_sr == v.psnr_lr
        assert v.psnr_lr == pytest.approx(srview.psnr(v.lr, v.hr)) and v.psnr_lr < 40
    png = srview.write_strip(views, str(tmp_path / "strip.png"))
    assert os.path.getsize(png) > 1000


def test_weights_without_sr_layers_are_an_error(tmp_path):
    deploy = kit.tiny_deploy(str(tmp_path / "d.prototxt"))
    w = kit.hand_weights(deploy, str(tmp_path / "cls_iter_1.caffemodel"))
    with pytest.raises(RacnnError, match="sconv1"):
        srview.sr_views(w, _photos(1), res=12, size=48)


@pytest.mark.shared
def test_authors_weights_improve_antialiased_bicubic(authors_sr_weights, shared, tmp_path):
    """PAPER.md: with MATLAB-like bicubic degradation the authors' SR weights
    raise PSNR over bicubic (+0.6..1.7 dB on photos); with OpenCV's
    INTER_CUBIC they lower it.  Needs the RGB->BGR swap (--rgb)."""
    birds = os.path.join(shared, "data", "cub_mini", "CUB_200_2011", "images",
                         "001.Black_footed_Albatross")
    out = str(tmp_path / "authors.png")
    r = subprocess.run([sys.executable, "tools/sr_view.py", "--weights", authors_sr_weights,
                        "--rgb", "--images", birds, "--limit", "2", "--out", out],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    summ = json.load(open(os.path.join(str(tmp_path), "authors.json")))
    assert summ["images"] == 2 and summ["kernel"] == "matlab" and summ["rgb_weights"]
    assert all(x["psnr_sr"] - x["psnr_lr"] > 0.3 for x in summ["per_image"])
    images = srview.read_images([birds], limit=2)
    cv = srview.summary(srview.sr_views(authors_sr_weights, images, kernel="opencv",
                                        rgb_weights=True))
    assert cv["gain"] < 0
