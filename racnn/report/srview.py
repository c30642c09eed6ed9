"""What the SR layers learned, as pictures (the paper's Fig. 3 style):
for a few images, LR-upscaled | SR output | HR side by side with PSNR.

``sr_views(weights, images, res, size, kernel, rgb_weights)``: each image
(HxWx3 uint8 BGR) is resized to ``size`` x ``size`` (the HR reference) and
degraded exactly as the databases are (racnn.resize.degrade: ``size -> res ->
size`` with ``kernel``); the SR-only net (racnn.nets.build_sr_deploy) with
the SR layers of ``weights`` (a RACNN snapshot, a stage-1 snapshot or the
authors' file, through racnn.weights.load_weights; ``rgb_weights`` for
RGB-trained weights such as the authors', swapped to our BGR) maps the LR
image to ``sum``, clipped and rounded to uint8.  The SR front sees raw
0..255 pixels, as with the release's data layers (no mean).
``psnr(a, b)``: over all pixels and channels, peak 255, no border shaved.
``write_strip(views, path)``: one row per image, LR | SR | HR with PSNR.
"""
import collections
import math
import os

import numpy as np

from ..errors import RacnnError
from ..datasets import expand_images, read_image
from ..eval.evaluate import caffemodels, set_mode
from ..plots import pyplot, save
from ..resize.degrade import degrade

SRView = collections.namedtuple("SRView", "name lr sr hr psnr_lr psnr_sr")


def psnr(a, b):
    """Peak signal-to-noise ratio in dB of two uint8 images (inf if equal)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise RacnnError("PSNR of images of different shapes %s and %s" % (a.shape, b.shape))
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def sr_net(weights, size, rgb_weights=False):
    """A caffe.Net of the SR front at ``size`` x ``size`` with its sconv
    layers loaded from ``weights`` (path or list); (net, audit)."""
    import caffe
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets import build_sr_deploy
    from ..nets.dummy import instantiate
    from ..weights import load_weights
    weights = caffemodels(weights)
    net = instantiate(build_sr_deploy(size, size, batch=1), caffe.TEST)
    audit = load_weights(net, weights, expected_new=(), swap_sr_rgb_to_bgr=rgb_weights)
    return net, audit


def sr_views(weights, images, res=50, size=227, kernel="matlab", rgb_weights=False, gpu=None):
    """[SRView] for ``images``: [(name, HxWx3 uint8 BGR)]."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets import SR_OUTPUT
    set_mode(gpu)
    net, _ = sr_net(weights, size, rgb_weights)
    views = []
    for name, img in images:
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise RacnnError("%s: need an HxWx3 uint8 colour image, got %s %s"
                             % (name, img.shape, img.dtype))
        lr, hr = degrade(img, res, size, kernel, return_hr=True)
        net.blobs["data"].data[0] = lr.transpose(2, 0, 1).astype(np.float32)
        net.forward()
        out = net.blobs[SR_OUTPUT].data[0].transpose(1, 2, 0)
        sr = np.clip(np.round(out), 0, 255).astype(np.uint8)
        views.append(SRView(name, lr, sr, hr, psnr(lr, hr), psnr(sr, hr)))
    return views


def read_images(paths, limit=None):
    """[(name, BGR uint8)] of image files and of the images in folders
    (sorted), at most ``limit``; decoded by datasets.read_image, as the
    databases' images are."""
    files = sorted(expand_images(paths))
    return [(os.path.basename(f), read_image(f)) for f in (files[:limit] if limit else files)]


def write_strip(views, path, title=None):
    """PNG with one row per view: LR-upscaled | SR | HR, PSNR in the titles."""
    plt = pyplot()
    fig, axes = plt.subplots(len(views), 3, figsize=(9, 3.1 * len(views)), squeeze=False)
    for row, v in zip(axes, views):
        gain = v.psnr_sr - v.psnr_lr
        for ax, img, text in zip(row, (v.lr, v.sr, v.hr), (
                "%s\nLR upscaled: %.2f dB" % (v.name, v.psnr_lr),
                "SR: %.2f dB (%+.2f)" % (v.psnr_sr, gain), "HR")):
            ax.imshow(img[:, :, ::-1], interpolation="nearest")
            ax.set_title(text, fontsize=8)
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, path)


def summary(views):
    """Mean PSNR of LR and SR against HR over the views."""
    lr = [v.psnr_lr for v in views if math.isfinite(v.psnr_lr)]
    sr = [v.psnr_sr for v in views if math.isfinite(v.psnr_sr)]
    return {"images": len(views), "psnr_lr": float(np.mean(lr)) if lr else None,
            "psnr_sr": float(np.mean(sr)) if sr else None,
            "gain": float(np.mean(sr) - np.mean(lr)) if lr and sr else None}
