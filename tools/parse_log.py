#!/usr/bin/env python3
"""Parse Caffe training logs into CSV tables and learning-curve plots.

  parse_log.py LOG [LOG ...] [--out DIR]    -> DIR/<name>.train.csv, <name>.test.csv,
                                               <name>.curves.png
  parse_log.py RUN_DIR                      -> every stage's train.log of a run folder,
                                               written beside the log

train.csv: iteration, seconds (since the log started), lr, loss, train outputs;
test.csv: iteration, seconds, test outputs (per-class tops as name[k]).
"""
import os

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import plots
from racnn.rundir import caffelog, reader
from racnn.errors import RacnnError, cli_main
from racnn.rundir.layout import LOG


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("logs", nargs="+", help="Caffe log files or run folders")
    p.add_argument("--out", help="output folder (default: beside each log)")
    p.add_argument("--no-plot", action="store_true", help="CSV only")
    return p.parse_args(argv)


def _logs(paths):
    for path in paths:
        if os.path.isdir(path):
            run = reader.read_run(path)
            name = os.path.basename(run.dir)
            logs = [(os.path.join(st.dir, LOG), "%s_%s" % (name, st.name))
                    for st in run.stages if os.path.isfile(os.path.join(st.dir, LOG))]
            if not logs:
                raise RacnnError("%s: no stage folder has a train.log" % path)
            for log, label in logs:
                yield log, label
        else:
            yield path, None


def process(log_path, out_dir=None, plot=True, label=None):
    """Parse one log and write its CSVs (and plot); returns (CaffeLog, paths)."""
    log = caffelog.parse_log(log_path)
    if not log.train and not log.test:
        raise RacnnError("%s: no training iteration found (not a Caffe training log?)"
                         % log_path)
    out_dir = out_dir or os.path.dirname(os.path.abspath(log_path))
    stem = os.path.join(out_dir, os.path.splitext(os.path.basename(log_path))[0])
    if out_dir != os.path.dirname(os.path.abspath(log_path)) and label:
        stem = os.path.join(out_dir, label)
    paths = list(caffelog.write_csv(log, stem + ".train.csv", stem + ".test.csv"))
    if plot:
        paths.append(plots.learning_curves(log.train, log.test, stem + ".curves.png",
                                           title=label or log_path))
    return log, paths


@cli_main
def main(argv=None):
    args = parse_args(argv)
    done = []
    for log_path, label in _logs(args.logs):
        log, paths = process(log_path, args.out, not args.no_plot, label)
        spi = caffelog.seconds_per_iteration(log)
        print("%s: %d train rows, %d test passes, last iteration %s%s" % (
            log_path, len(log.train), len(log.test),
            log.train[-1]["iteration"] if log.train else "-",
            ", %.3f s/iteration" % spi if spi is not None else ""))
        for p in paths:
            print("  " + p)
        done.append((log, paths))
    return done


if __name__ == "__main__":
    main()
