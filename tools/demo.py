#!/usr/bin/env python3
"""The whole RACNN pipeline on an embedded synthetic dataset, on the CPU,
without any download (make demo; make demo SMOKE=1 for a quick check).

  1. a seeded synthetic fine-grained dataset (racnn.datasets.synthetic):
     classes differ only in a fine texture that low resolution blurs away;
  2. databases: training/test images degraded to r x r and back, the same
     images undegraded, and SR patches (LR, HR) of the training images;
  3. backbone_hr: the tiny CNN trained on the undegraded images, the
     stand-in for ImageNet pre-training (it initialises stage 2 through the
     audited weight loading, like the BVLC models do for the paper's nets);
  4. stage 1: SR pre-training on the patches;
  5. stage 2: CNN, g-RACNN and p-RACNN on the degraded images;
  6. tools/eval_per_class.py on each final model, and a per-class table.

Re-running resumes (finished stages are skipped).  Data goes to
data/synthetic[-smoke], the run folder to runs/synthetic-tiny-...
"""
import time

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn.demo.run import run_demo
from racnn.errors import cli_main
from racnn import pipeline
from racnn.progress import progress


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--smoke", action="store_true",
                   help="a handful of images and iterations: a quick end-to-end check")
    p.add_argument("--data-dir", help="where the synthetic dataset goes "
                   "(default: data/synthetic[-smoke])")
    p.add_argument("--run-dir", help="run folder (default: runs/<name>)")
    p.add_argument("--gpu", help="Caffe's --gpu (default: CPU)")
    p.add_argument("--verbose", action="store_true", help="echo Caffe's output")
    return p.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    info, cfg, record, md, md_path = run_demo(args.smoke, args.data_dir, args.run_dir, args.gpu,
                                              echo=args.verbose, progress=progress)
    print("\nPer-class accuracy (%%) on the %d test images, degraded to %dx%d "
          "(HR column: undegraded):\n" % (info["test_count"], cfg["res"], cfg["res"]))
    print(md)
    print("\n".join(pipeline.summary_lines(record)))
    print("per-class table: %s" % md_path)
    print("demo finished in %.0f s" % (time.time() - t0))
    return record


if __name__ == "__main__":
    main()
