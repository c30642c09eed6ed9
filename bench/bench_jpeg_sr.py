#!/usr/bin/env python3
"""Measurement (issue 13, item 7): how much storing the LR images through a
JPEG round trip (as the release's .jpg files: MATLAB imwrite, quality 75)
changes the SR gain of the authors' SR weights.

For each image of a dataset split (cropped to its box, as the databases
are): HR = the image at 227, LR = 227 -> 50 -> 227 (MATLAB bicubic), LR_jpeg
= LR through racnn.db.classification.jpeg_round_trip; the authors' SR front
(RGB -> BGR swapped) on LR and on LR_jpeg; PSNR of each against HR.  Prints
per-image and mean PSNR, and the SR gain (SR - its input) both ways.

  bench/bench_jpeg_sr.py [--root ../shared/data/cub_mini] [--format cub]
        [--split test] [--limit 40] [--quality 75]
        [--weights ../shared/models/rsrcnn_authors.caffemodel]
"""
import argparse
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

from racnn import datasets  # noqa: E402
from racnn.db.classification import jpeg_round_trip  # noqa: E402
from racnn.nets import SR_OUTPUT  # noqa: E402
from racnn.paths import shared_dir  # noqa: E402
from racnn.report.srview import psnr, sr_net  # noqa: E402
from racnn.resize.degrade import degrade  # noqa: E402


def sr(net, img):
    net.blobs["data"].data[0] = img.transpose(2, 0, 1).astype(np.float32)
    net.forward()
    out = net.blobs[SR_OUTPUT].data[0].transpose(1, 2, 0)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def main():
    shared = shared_dir() or "../shared"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=os.path.join(shared, "data", "cub_mini"))
    p.add_argument("--format", default="cub")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, default=40)
    p.add_argument("--quality", type=int, default=75)
    p.add_argument("--res", type=int, default=50)
    p.add_argument("--size", type=int, default=227)
    p.add_argument("--weights", default=os.path.join(shared, "models",
                                                     "rsrcnn_authors.caffemodel"))
    args = p.parse_args()
    ds = datasets.load(args.format, args.root, args.split)
    samples = ds.samples[:args.limit]
    net, _ = sr_net(args.weights, args.size, rgb_weights=True)
    rows = []
    for s in samples:
        img, _ = datasets.read_sample(s)
        lr, hr = degrade(img, args.res, args.size, return_hr=True)
        lj = jpeg_round_trip(lr, args.quality)
        rows.append((psnr(lr, hr), psnr(sr(net, lr), hr), psnr(lj, hr), psnr(sr(net, lj), hr),
                     psnr(lj, lr)))
    a = np.array(rows)
    print("%d images of %s/%s, %d -> %d -> %d, JPEG quality %d, weights %s"
          % (len(rows), args.root, args.split, args.size, args.res, args.size, args.quality,
             args.weights))
    print("mean PSNR against HR (dB): LR %.3f, SR(LR) %.3f, LR_jpeg %.3f, SR(LR_jpeg) %.3f"
          % tuple(a[:, :4].mean(axis=0)))
    gain_raw, gain_jpeg = a[:, 1] - a[:, 0], a[:, 3] - a[:, 2]
    print("SR gain, raw LR:  mean %+.3f dB (min %+.3f, max %+.3f)"
          % (gain_raw.mean(), gain_raw.min(), gain_raw.max()))
    print("SR gain, JPEG LR: mean %+.3f dB (min %+.3f, max %+.3f)"
          % (gain_jpeg.mean(), gain_jpeg.min(), gain_jpeg.max()))
    print("gain change (JPEG - raw): mean %+.3f dB; SR(LR_jpeg) - SR(LR): %+.3f dB; "
          "the round trip itself: LR_jpeg vs LR %.2f dB"
          % ((gain_jpeg - gain_raw).mean(), (a[:, 3] - a[:, 1]).mean(), a[:, 4].mean()))


if __name__ == "__main__":
    main()
