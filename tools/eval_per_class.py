#!/usr/bin/env python3
"""Exact per-class evaluation of Caffe snapshots on a test LMDB (the paper's
metric): racnn.eval.cli, also ``python3 -m racnn.eval``; --help for usage."""
import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.eval.cli import main


if __name__ == "__main__":
    main()
