#!/usr/bin/env python3
"""Write the seeded synthetic fine-grained dataset (racnn.datasets.synthetic):
JPEG files in the folder-per-class layout with classes.txt, train.txt,
test.txt, read by the ``folder`` dataset format.

  make_synthetic.py --out data/synthetic
  make_synthetic.py --out /tmp/syn --classes 4 --train 10 --test 5 --seed 3
"""
import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.datasets import synthetic
from racnn.errors import cli_main
from racnn.progress import progress


D = synthetic.DEFAULTS


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--classes", type=int, default=D["num_classes"],
                   help="number of classes, 2..%d (default %%(default)s)"
                   % (len(synthetic.PATTERNS) * len(synthetic.PERIODS)))
    p.add_argument("--train", type=int, default=D["train_per_class"],
                   help="training images per class (default %(default)s)")
    p.add_argument("--test", type=int, default=D["test_per_class"],
                   help="test images per class (default %(default)s)")
    p.add_argument("--size", type=int, default=D["size"], help="image side (default %(default)s)")
    p.add_argument("--detail", type=float, default=D["detail"],
                   help="finest texture period as a fraction of the side (default %(default)s)")
    p.add_argument("--seed", type=int, default=D["seed"], help="default %(default)s")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a synthetic dataset made with other parameters")
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    a = parse_args(argv)
    info = synthetic.generate(a.out, num_classes=a.classes, train_per_class=a.train,
                              test_per_class=a.test, size=a.size, detail=a.detail, seed=a.seed,
                              overwrite=a.overwrite, progress=progress)
    print("%s: %d classes, %d training + %d test images"
          % (a.out, info["num_classes"], info["train_count"], info["test_count"]))
    return info


if __name__ == "__main__":
    main()
