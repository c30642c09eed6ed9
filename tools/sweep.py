#!/usr/bin/env python3
"""Sweeps of experiments, here or on Slurm (racnn.sweep; python3 tools/sweep.py -h).

  make sweep SWEEP=demo
  make sweep SWEEP=table2 SCHEDULER=slurm PARTITION=gpu GRES=gpu:1 TIME=2-00:00:00

It may run outside the Caffe environment (a cluster's login node, beside
sbatch): what needs Caffe goes through --backend (default docker/run).
"""
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.sweep.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="sweep.py"))
