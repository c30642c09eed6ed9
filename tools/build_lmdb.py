#!/usr/bin/env python3
"""Build a Caffe LMDB of degraded images from a dataset in its official
layout: crop to the bounding box (Cars, Birds), resize to --size, down to
--res x --res, back up to --size (kernel: MATLAB-faithful bicubic by
default), store as BGR uint8 CHW Datums in a seeded shuffled order, with a
manifest.json.  Decoding and resizing use every core; memory stays bounded.

  python3 tools/build_lmdb.py --dataset cub --root data/datasets/cub --split train --res 50
  python3 tools/build_lmdb.py --dataset folder --root my_images --split test --res 25 --out /tmp/db
"""
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import datasets, vocab
from racnn.errors import cli_main
from racnn.db.classification import build_classification_db, small_source_warning


def parser():
    p = tool_parser(__doc__)
    p.add_argument("--dataset", required=True,
                   choices=list(vocab.FORMATS) + sorted(k for k in vocab.FORMAT_ALIASES if k != "synthetic"),
                   help="dataset format (official layout; 'folder' = one folder per class)")
    p.add_argument("--root", required=True, help="dataset folder (e.g. data/datasets/cub)")
    p.add_argument("--split", required=True, help="train or test (flowers: train = trnid + valid; "
                   "also trainonly, val; folder: any split list name, or all)")
    p.add_argument("--res", type=int, default=vocab.DEFAULT_RES,
                   help="low resolution r (images go down to r x r and back; "
                        "r = --size stores the undegraded images); default %(default)s")
    p.add_argument("--size", type=int, default=vocab.DEFAULT_DB_SIZE,
                   help="stored image side (the net crops its input from it); default %(default)s")
    p.add_argument("--kernel", choices=vocab.KERNELS, default=vocab.DEFAULT_KERNEL,
                   help="resize kernel; default %(default)s (MATLAB imresize bicubic)")
    p.add_argument("--out", help="database folder; default data/lmdb/<dataset>/"
                                 "<split>_r<res>_s<size>_<kernel>")
    p.add_argument("--encoded", choices=("none", "png", "jpg"), default="none",
                   help="store encoded images instead of raw pixels (png is lossless); "
                        "default %(default)s")
    p.add_argument("--no-boxes", action="store_true", help="do not crop to the bounding boxes")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip unreadable images (counted in the manifest) instead of stopping")
    p.add_argument("--seed", type=int, default=0, help="shuffling seed; default %(default)s")
    p.add_argument("--max-pixels", type=int, default=datasets.MAX_PIXELS,
                   help="larger images are bad images (decompression bombs; skipped with "
                        "--skip-bad); default %(default)s")
    p.add_argument("--limit", type=int, help="only this many images (class-balanced subset)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes; default: one per core")
    p.add_argument("--overwrite", action="store_true", help="replace an existing database")
    return p


@cli_main
def main(argv=None):
    args = parser().parse_args(argv)
    datasets.limit_pixels(args.max_pixels)          # before the workers fork
    ds = datasets.load(args.dataset, args.root, args.split, use_boxes=not args.no_boxes)
    out = args.out or vocab.db_path(ds.name, args.split, args.res, args.size, args.kernel)
    m = build_classification_db(ds, args.split, args.res, out, size=args.size,
                                   kernel=args.kernel, skip_bad=args.skip_bad, seed=args.seed,
                                   encoded=False if args.encoded == "none" else args.encoded,
                                   limit=args.limit, workers=args.workers,
                                   overwrite=args.overwrite)
    warning = small_source_warning(m, args.size, out)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print("%s: %d images, %d classes (labels %d..%d), r%d s%d %s%s%s"
          % (out, m["count"], m["num_classes"], m["label_min"], m["label_max"], m["res"],
             m["size"], m["kernel"],
             ", %d unreadable skipped" % m["skipped_bad"] if m["skipped_bad"] else "",
             ", %d boxes clipped" % m["clipped_boxes"] if m["clipped_boxes"] else ""))
    return 0


if __name__ == "__main__":
    main()
