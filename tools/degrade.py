#!/usr/bin/env python3
"""Degrade images the way the paper does (resize to --size, down to --res,
back up; MATLAB-faithful bicubic by default) and write <stem>_lr<R>.png
(the degraded, upscaled image) and, with --save-hr, <stem>_hr.png (the
image resized to --size), for looking at and for PSNR checks.

  python3 tools/degrade.py photo.jpg more_photos/ --out /tmp/lr --res 50 --save-hr
"""
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import vocab
from racnn.errors import RacnnError, cli_main
from racnn.progress import progress


def parser():
    p = tool_parser(__doc__)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--res", type=int, required=True, help="low resolution r (r x r)")
    p.add_argument("--size", type=int, default=vocab.DEFAULT_DB_SIZE,
                   help="network input side; default %(default)s")
    p.add_argument("--kernel", choices=vocab.KERNELS, default=vocab.DEFAULT_KERNEL,
                   help="resize kernel; default %(default)s")
    p.add_argument("--save-hr", action="store_true", help="also write <stem>_hr.png")
    return p


@cli_main
def main(argv=None):
    args = parser().parse_args(argv)
    import cv2
    from racnn.atomic import atomic_file
    from racnn.datasets import expand_images, read_image
    from racnn.resize.degrade import degrade
    files = expand_images(args.inputs)
    os.makedirs(args.out, exist_ok=True)
    for path in progress(files, total=len(files), desc="degrade", unit="img"):
        lr, hr = degrade(read_image(path), args.res, args.size, args.kernel, return_hr=True)
        stem = os.path.splitext(os.path.basename(path))[0]
        outputs = [("%s_lr%d.png" % (stem, args.res), lr)]
        if args.save_hr:
            outputs.append(("%s_hr.png" % stem, hr))
        for name, img in outputs:
            ok, buf = cv2.imencode(".png", img)
            if not ok:
                raise RacnnError("could not encode %s" % name)
            with atomic_file(os.path.join(args.out, name), "wb") as fh:
                fh.write(buf.tobytes())
    print("%d image(s) degraded to %dx%d (shown at %dx%d, %s kernel) in %s"
          % (len(files), args.res, args.res, args.size, args.size, args.kernel, args.out))
    return 0


if __name__ == "__main__":
    main()
