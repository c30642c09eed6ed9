"""Fail-fast checks of what a run reads, before any work starts: the
dataset's folder, the initial backbone weights (the backbone's ImageNet
model, fetched by racnn.fetch, or a file), the authors' SR weights, the
stage-1 image folder; and a GPU asked for that cannot be used."""
import os

from .. import fetch, vocab
from ..errors import RacnnError
from ..rundir.settings import sr_start
from .gpu import usable_gpu


def _fetch_require(name):
    return fetch.require(name)


def check_inputs(cfg, plan):
    """Paths of everything the run reads, checked before any work starts:
    {"data_root", "backbone_weights", "authors_sr_weights", "sr_images"}.
    A GPU that cannot be used is the first thing refused (usable_gpu)."""
    usable_gpu(cfg.get("gpu"))
    out = {}
    root = cfg["data_root"]
    if root is None:
        out["data_root"] = _fetch_require(cfg["dataset"])
    elif not os.path.isdir(root):
        raise RacnnError("dataset %s: %s does not exist (give --data-root the folder "
                         "holding it%s)" % (cfg["dataset"], root, _fetch_hint(cfg["dataset"])))
    else:
        out["data_root"] = root
    bw = cfg["backbone_weights"]
    if bw is None:
        zoo = vocab.backbone_spec(cfg["backbone"]).zoo_weights
        if zoo is None:
            raise RacnnError("backbone %s has no ImageNet weights; use --backbone-weights "
                             "FILE, hr or none" % cfg["backbone"])
        try:
            out["backbone_weights"] = _fetch_require(zoo)
        except RacnnError as exc:
            raise RacnnError("%s\nOr train without ImageNet weights: --backbone-weights none "
                             "(fillers; make ... BACKBONE_WEIGHTS=none), or --backbone-weights "
                             "hr (the backbone trained on the undegraded images first); the "
                             "paper's numbers need the ImageNet weights." % exc)
    elif bw not in ("hr", "none"):
        if not os.path.isfile(bw):
            raise RacnnError("backbone weights %s: no such file" % bw)
        out["backbone_weights"] = bw
    else:
        out["backbone_weights"] = None
    if cfg["sr_weights"] == "authors" and any(sr_start(cfg, s) == "pretrained" for s in plan):
        path = cfg["authors_sr_weights"]
        if path is None:
            path = _fetch_require(vocab.AUTHORS_SR_WEIGHTS)
        elif not os.path.isfile(path):
            raise RacnnError("authors' SR weights %s: no such file%s"
                             % (path, _fetch_hint(vocab.AUTHORS_SR_WEIGHTS)))
        out["authors_sr_weights"] = path
    if "stage1_sr" in plan and cfg["sr_images"] and not os.path.isdir(cfg["sr_images"]):
        raise RacnnError("SR pre-training images: %s is not a folder" % cfg["sr_images"])
    return out


def _fetch_hint(name):
    try:
        return "; or fetch it with: %s" % fetch.fetch_command(fetch.resource(name))
    except RacnnError:          # a custom dataset: nothing to fetch
        return ""


