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
``add_gains(records, cache)``: for the report, each RACNN result's SR front
(its final model's sconv layers, after stage 2) measured on a few of its
dataset's test images with the run's degradation: the PSNR gain over the
bicubic LR-upscaled image beside its accuracy (the paper's claim that the
SR layers recover details).
"""
import collections
import json
import math
import os

import numpy as np

from .. import atomic, fetch, vocab
from ..errors import RacnnError
from ..datasets import expand_images, load, read_image, read_sample
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


#: how many of a run's test images the report measures each SR front on
#: (evenly spaced through the test split; ~0.1 s each at 227 on a CPU)
REPORT_IMAGES = 8


def dataset_test_images(config, limit=REPORT_IMAGES):
    """[(name, BGR uint8)] of ``limit`` test images of a run's dataset
    (config.json's data_root or the fetched dataset), evenly spaced, cropped
    to their boxes as the databases' images are."""
    fmt = config.get("data_format") or vocab.dataset_spec(config["dataset"]).file_format
    root = config.get("data_root") or fetch.require(config["dataset"])
    opts = ({"split_from": config["split_from"], "test_fraction": config.get("test_fraction"),
             "seed": config.get("seed") or 0} if config.get("split_from") else {})
    samples = load(fmt, root, "test", check_files=False, **opts).samples
    step = max(1, len(samples) // limit)
    return [(os.path.basename(s.path), read_sample(s)[0]) for s in samples[::step][:limit]]


def record_gain(r, config, images):
    """{"sr_gain", "sr_gains", "sr_images_measured"} of a result record's
    SR front (its final model ``r["model"]``), or {"sr_note": why not};
    ``images()``: its run's test images (dataset_test_images)."""
    try:
        views = sr_views(r["model"], images(), config.get("res") or vocab.DEFAULT_RES,
                         config.get("db_size") or vocab.DEFAULT_DB_SIZE,
                         config.get("kernel") or vocab.DEFAULT_KERNEL)
    except (RacnnError, OSError, ValueError, KeyError) as exc:
        return {"sr_note": str(exc).splitlines()[0][:200]}
    gains = [v.psnr_sr - v.psnr_lr for v in views
             if math.isfinite(v.psnr_sr) and math.isfinite(v.psnr_lr)]
    if not gains:
        return {"sr_note": "no test image to measure on"}
    return {"sr_gain": float(np.mean(gains)), "sr_gains": gains,
            "sr_images_measured": len(gains)}


def add_gains(records, configs, cache_path=None, limit=REPORT_IMAGES):
    """Add ``record_gain``'s fields to each record of an SR stage
    (racnn.vocab.SR_STAGES); ``configs``: {run folder: config.json}.
    Measurements are kept in ``cache_path`` (JSON, keyed by the model file,
    its size and time, the degradation and the image count), so a report
    made again measures only new models; the run folders are not written."""
    cache = {}
    if cache_path and os.path.isfile(cache_path):
        try:
            with open(cache_path) as fh:
                cache = json.load(fh)
        except ValueError:
            cache = {}
    read = {}

    def run_images(run, config):
        # a run's g- and p-RACNN are measured on the same images: read them once
        if run not in read:
            read[run] = dataset_test_images(config, limit)
        return read[run]

    for r in records:
        if r.get("variant") not in vocab.SR_STAGES:
            continue
        config = configs.get(r["run"]) or {}
        model = r.get("model") or ""
        stat = os.stat(model) if os.path.isfile(model) else None
        key = "|".join(str(x) for x in (model, stat and stat.st_size, stat and stat.st_mtime,
                                        config.get("res"), config.get("db_size"),
                                        config.get("kernel"), limit))
        found = cache.get(key) or record_gain(r, config, lambda: run_images(r["run"], config))
        if "sr_gain" in found:          # (a failure is tried again next time)
            cache[key] = found
        r.update(found)
    if cache_path:
        atomic.write_text(cache_path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return records
