#!/usr/bin/env python3
"""Build the stage-1 SR pre-training database: every HR image resized to
--size (227) = HR, LR = HR down to --res (50) and back up; --patch (51)
patches at --stride (17) cut at the same place from both and stored as ONE
6-channel Datum (channels 0-2 LR BGR, 3-5 HR BGR, label 0), shuffled with
--seed, with a manifest.json.

  python3 tools/build_sr_patches.py --images data/datasets/ILSVRC2015_DET_test --max-images 500
  python3 tools/build_sr_patches.py --dataset cub --root data/datasets/cub --out /tmp/sr
"""
import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import datasets, vocab
from racnn.errors import RacnnError, cli_main
from racnn.db.sr_patches import build_sr_patch_db


def parser():
    p = tool_parser(__doc__)
    src = p.add_argument_group("source (one of)")
    src.add_argument("--images", help="folder of HR images (searched recursively)")
    src.add_argument("--dataset", help="dataset format (cars, cub, flowers, folder): its "
                     "training images, cropped to their boxes")
    src.add_argument("--root", help="the dataset's folder (with --dataset)")
    p.add_argument("--out", help="database folder; default data/lmdb/sr_patches/"
                                 "r<res>_s<size>_p<patch>_st<stride>_<kernel>")
    p.add_argument("--res", type=int, default=vocab.SR_LR_RES, help="LR side; default %(default)s")
    p.add_argument("--size", type=int, default=vocab.SR_HR_SIZE,
                   help="HR side; default %(default)s")
    p.add_argument("--patch", type=int, default=vocab.SR_PATCH,
                   help="patch side; default %(default)s")
    p.add_argument("--stride", type=int, default=vocab.SR_STRIDE,
                   help="patch stride; default %(default)s")
    p.add_argument("--kernel", choices=vocab.KERNELS, default=vocab.DEFAULT_KERNEL,
                   help="resize kernel; default %(default)s")
    p.add_argument("--max-images", type=int,
                   help="a seeded sample of this many images (the released script uses 500)")
    p.add_argument("--seed", type=int, default=0, help="sampling/shuffling seed")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images")
    p.add_argument("--max-pixels", type=int, default=datasets.MAX_PIXELS,
                   help="larger images are bad images (decompression bombs; skipped with "
                        "--skip-bad); default %(default)s")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing database")
    return p


@cli_main
def main(argv=None):
    args = parser().parse_args(argv)
    datasets.limit_pixels(args.max_pixels)          # before the workers fork
    if bool(args.images) == bool(args.dataset):
        raise RacnnError("give either --images DIR or --dataset FMT --root DIR")
    if args.dataset:
        if not args.root:
            raise RacnnError("--dataset needs --root")
        images = datasets.load(args.dataset, args.root, "train")
    else:
        images = args.images
    out = args.out or vocab.sr_db_path(args.res, args.size, args.patch, args.stride, args.kernel)
    m = build_sr_patch_db(images, out, res=args.res, size=args.size, patch=args.patch,
                             stride=args.stride, kernel=args.kernel, max_images=args.max_images,
                             seed=args.seed, skip_bad=args.skip_bad, workers=args.workers,
                             overwrite=args.overwrite)
    print("%s: %d patches (%dx%d, 6 channels: LR BGR + HR BGR) from %d images, r%d s%d %s"
          % (out, m["count"], m["patch"], m["patch"], m["images"], m["res"], m["size"],
             m["kernel"]))
    return 0


if __name__ == "__main__":
    main()
