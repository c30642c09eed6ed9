#!/usr/bin/env python3
"""Strips of LR-upscaled | SR output | HR with PSNR (the paper's Fig. 3
style), to see what the SR layers learned.

  sr_view.py --weights racnn_p_iter_N.caffemodel --images DIR_OR_FILES --out sr.png
  sr_view.py --weights ../shared/models/rsrcnn_authors.caffemodel --rgb --images ...
  sr_view.py RUN_DIR --images ...      (a run's p-RACNN / g-RACNN / stage-1 model,
                                        with the run's resolution and kernel)

Writes the PNG and, beside it, <out>.json with each image's PSNR.  --rgb is
for RGB-trained weights such as the authors' release (our databases are
BGR); RACNN snapshots trained here need no flag.
"""
import json
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import atomic, vocab
from racnn.report import srview
from racnn.errors import RacnnError, cli_main


#: stages whose model carries SR layers, preferred first
SR_STAGES = vocab.SR_STAGES[::-1]       # the last trained first


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("run", nargs="?", help="a run folder (takes its SR model, res, kernel)")
    p.add_argument("--weights", nargs="+", help="caffemodel(s) holding sconv1..3")
    p.add_argument("--rgb", action="store_true",
                   help="the weights were trained on RGB (the authors' file)")
    p.add_argument("--images", nargs="+", required=True, help="HR image files or folders")
    p.add_argument("--limit", type=int, default=4, help="at most this many images")
    p.add_argument("--res", type=int, help="low resolution r (default: the run's, else %d)"
                   % vocab.DEFAULT_RES)
    p.add_argument("--size", type=int, help="HR / network side (default: the run's "
                   "database size, else %d)" % vocab.DEFAULT_DB_SIZE)
    p.add_argument("--kernel", choices=vocab.KERNELS, help="degradation kernel "
                   "(default: the run's, else %s)" % vocab.DEFAULT_KERNEL)
    p.add_argument("--gpu", type=int, help="GPU id (default: CPU)")
    p.add_argument("--out", help="PNG path (default: RUN/sr_view.png)")
    args = p.parse_args(argv)
    if not args.run and not args.weights:
        p.error("give a run folder or --weights")
    if not args.run and not args.out:
        p.error("--out is required without a run folder")
    return args


def from_run(run_dir):
    """(weights, config) of the first SR-carrying stage of a run."""
    from racnn.rundir import reader
    run = reader.read_run(run_dir)
    by_name = {s.name: s for s in run.stages}
    for name in SR_STAGES:
        model = by_name.get(name) and reader.latest_model(by_name[name])
        if model:
            return model, run.config
    raise RacnnError("%s: no trained stage with SR layers (%s)" % (run_dir, ", ".join(SR_STAGES)))


@cli_main
def main(argv=None):
    args = parse_args(argv)
    cfg = {}
    weights = args.weights
    if args.run:
        w, cfg = from_run(args.run)
        weights = weights or [w]
    res = args.res or cfg.get("res") or vocab.DEFAULT_RES
    size = args.size or cfg.get("db_size") or vocab.DEFAULT_DB_SIZE
    kernel = args.kernel or cfg.get("kernel") or vocab.DEFAULT_KERNEL
    out = args.out or os.path.join(args.run, "sr_view.png")
    images = srview.read_images(args.images, args.limit)
    views = srview.sr_views(weights, images, res, size, kernel, args.rgb, args.gpu)
    title = "%s; %d -> %d -> %d, %s kernel" % (
        ", ".join(os.path.basename(w) for w in weights), size, res, size, kernel)
    srview.write_strip(views, out, title)
    summ = dict(srview.summary(views), weights=[os.path.abspath(w) for w in weights],
                rgb_weights=args.rgb, res=res, size=size, kernel=kernel,
                per_image=[{"name": v.name, "psnr_lr": v.psnr_lr, "psnr_sr": v.psnr_sr}
                           for v in views])
    atomic.write_text(os.path.splitext(out)[0] + ".json", json.dumps(summ, indent=1) + "\n")
    for v in views:
        print("%-28s LR %6.2f dB   SR %6.2f dB   %+.2f" % (v.name[:28], v.psnr_lr, v.psnr_sr,
                                                           v.psnr_sr - v.psnr_lr))
    if summ["gain"] is not None:
        print("mean: LR %.2f dB, SR %.2f dB, gain %+.2f dB" % (summ["psnr_lr"],
                                                               summ["psnr_sr"], summ["gain"]))
    print("written: %s" % out)
    return views


if __name__ == "__main__":
    main()
