#!/usr/bin/env python3
"""Run one experiment of the paper: databases, stage 1 (SR pre-training),
stage 2 (CNN, g-RACNN, p-RACNN; Staged-Training with --variants ...,staged),
evaluation and the results table.

  experiment.py cars alexnet                       (make cars-alexnet)
  experiment.py birds alexnet --mode frozen --res 25
  experiment.py birds tiny --smoke --data-root ../shared/data/cub_mini \\
                --backbone-weights tiny_imagenet_standin.caffemodel

Re-running the same command skips finished stages and resumes an interrupted
one from its newest snapshot (--only-stage STAGE: that stage alone, as a
sweep's stage job does).  Stage 1 is shared: a finished stage-1 model of the
same stage-1 settings (runs/sr/<images>-<hash>/, trained by another run) is
reused, not trained again.  A net or solver edited since a stage copied it
is taken by an unfinished stage (saying so); a finished one is reported as
stale, with the command that retrains it (--restart STAGE), and the run exits
with status 3 (not finished; --keep-stale accepts it; errors exit 2).  To train edited
nets of a custom dataset: tools/make_nets.py ... --out mynets/, edit them, then
--nets mynets/.  Everything goes into one run folder,
runs/<dataset>-<backbone>-r<res>-<mode>-<mults>[-srauthors|-sr<images>][-gsr][-it1m]
[-seed<N>][-jpeg<q>][-cudnn][-tf32]
[-bw<weights>][-s<db_size>][-from<split><pct>][-smoke]/
(racnn.rundir.settings.run_name; docs/DESIGN.md, "Run folder", draws its
layout).  Any configuration key of
racnn.rundir.settings.DEFAULTS can be set with --set KEY=VALUE (VALUE as JSON,
e.g. --set stage2_epochs=30 --set 'solver={"stage2": {"base_lr": 1e-5}}').
"""
import json
import shlex
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import pipeline, vocab
from racnn.errors import NotFinished, RacnnError, cli_main
from racnn.rundir import settings


def parse_set(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise RacnnError("--set %r: expected KEY=VALUE" % item)
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value            # a bare string
    return out


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("dataset", help="one of: %s (or a custom name with --format and "
                   "--data-root)" % ", ".join(vocab.DATASETS))
    p.add_argument("backbone", help="one of: %s" % ", ".join(vocab.BACKBONES))
    p.add_argument("--res", type=int, help="low resolution r (r x r); default 50")
    p.add_argument("--mode", help="e2e (default; Sec. II-C) or frozen (Table II)")
    p.add_argument("--mults", help="multiplier reading: paper (default) or release")
    p.add_argument("--sr-weights", help="p-RACNN's SR layers: pretrain (default; stage 1) "
                   "or authors (the released weights, RGB->BGR swapped)")
    p.add_argument("--gpu", help="Caffe's --gpu: 0, 0,1 or all (default: CPU)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny iteration counts and subsets: a minutes-long end-to-end check")
    p.add_argument("--data-root", help="the dataset's folder (default: where tools/fetch.py "
                   "puts it)")
    p.add_argument("--format", dest="data_format",
                   help="dataset format for a custom dataset: cars, cub, flowers, folder")
    p.add_argument("--backbone-weights", help="initial backbone caffemodel (default: the "
                   "BVLC ImageNet model; 'hr': train the backbone on undegraded images first; "
                   "'none': fillers)")
    p.add_argument("--variants", help="comma-separated subset of %s (default: %s)" % (
        ",".join(vocab.VARIANTS), ",".join(vocab.DEFAULT_VARIANTS)))
    p.add_argument("--split-from", help="draw train and test from this split instead of the "
                   "dataset's own (a plain folder-per-class tree: all), stratified by class")
    p.add_argument("--test-fraction", type=float,
                   help="with --split-from: each class's fraction for test (default 0.3)")
    p.add_argument("--seed", type=int, help="every random choice of the run (default 1701): "
                   "solver, data order, subsets, split drawing, fillers")
    p.add_argument("--seeds", metavar="N[,N...]",
                   help="the experiment once per seed, one after another, each in a run folder "
                   "of its own (-seed<N> in its name unless N is the default); the report "
                   "gives each cell the seeds' mean and standard deviation (make ... SEEDS=1,2,3)")
    p.add_argument("--run-dir", help="run folder (default: runs/<name>)")
    p.add_argument("--nets", help="folder of the nets and solvers to train, as written by "
                   "tools/make_nets.py --out (default: prototxt/ and solvers/, or generated)")
    p.add_argument("--restart", metavar="STAGE[,STAGE]",
                   help="train these stages afresh (and the stages that read their models); "
                   "their earlier files go to <run>/superseded/")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any configuration key (racnn/rundir/settings.py DEFAULTS); repeatable")
    p.add_argument("--only-stage", metavar="STAGE",
                   help="train (and evaluate) this stage of the run alone, from the final "
                   "models of the stages it reads (a sweep's stage job; drivers of other "
                   "stages may work on the same run folder at once); one of %s"
                   % ", ".join(vocab.STAGES))
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved configuration and the stages, do nothing")
    p.add_argument("--verbose", action="store_true", help="echo Caffe's output")
    p.add_argument("--keep-stale", action="store_true",
                   help="exit 0 even when a finished stage is stale (kept with its old model); "
                   "without it such a run exits with status 3")
    return p.parse_args(argv)


def rerun_command(argv):
    """This command line without --restart, as the host runs it (docker/run
    works inside the environment too)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--restart":
            skip = True
        elif not a.startswith("--restart="):
            out.append(a)
    return "docker/run python3 tools/experiment.py " + " ".join(shlex.quote(a) for a in out)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    overrides = parse_set(args.set)
    for key in ("res", "mode", "mults", "sr_weights", "gpu", "data_root", "data_format",
                "backbone_weights", "nets", "restart", "split_from", "test_fraction", "seed"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.variants:
        overrides["variants"] = [v.strip() for v in args.variants.split(",") if v.strip()]
    seeds = settings.parse_seeds(args.seeds) if args.seeds else [overrides.get("seed")]
    if len(seeds) > 1 and args.run_dir:
        raise RacnnError("--seeds %s: each seed trains a run folder of its own, named after it; "
                         "--run-dir names one folder (leave it out)" % args.seeds)
    records = []
    for seed in seeds:
        cfg = settings.make_config(args.dataset, args.backbone, smoke=args.smoke,
                                   **dict(overrides, seed=seed))
        run_dir = args.run_dir or settings.default_run_dir(cfg)
        if args.dry_run:
            print(settings.dumps(cfg))
            print("stages: %s" % ", ".join(settings.stage_plan(cfg)))
            print("run folder: %s" % run_dir)
            records.append(cfg)
            continue
        record = pipeline.run(cfg, run_dir, echo=args.verbose, command=rerun_command(argv),
                              only=args.only_stage)
        print("\n".join(pipeline.summary_lines(record)))
        records.append(record)
    stale = [r for r in records if not args.dry_run and not r["finished"]]
    if stale and not args.keep_stale:
        raise NotFinished("%s not finished: %s (its results are of older models; rerun with "
                          "the --restart the warnings above name, or --keep-stale to accept "
                          "them)" % (" and ".join(r["run_dir"] for r in stale) + (
                              " is" if len(stale) == 1 else " are"),
                              "; ".join(x for r in stale for x in r["not_finished"])))
    return records[0] if len(records) == 1 else records


if __name__ == "__main__":
    main()
