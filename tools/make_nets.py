#!/usr/bin/env python3
"""Regenerate the committed nets and solvers (prototxt/, solvers/) from
racnn/nets, check that they are up to date, or generate the same set for a
custom dataset into any folder, to edit there and train with --nets.

  python3 tools/make_nets.py              # rewrite prototxt/ and solvers/ (make prototxts)
  python3 tools/make_nets.py --check      # exit 1 listing files that differ (make check-generated)
  python3 tools/make_nets.py --backbone tiny --num-classes 10 --name my_birds --out mynets/
  python3 tools/experiment.py my_birds tiny --format cub --data-root DIR --nets mynets/

The experiment driver rewrites the databases of a custom set's nets per run;
--train-lmdb/--test-lmdb only matter for running the files by hand.
"""
import argparse
import os
import sys

import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.cli import tool_parser
from racnn import paths, vocab
from racnn.errors import cli_main
from racnn.nets import generate, layout, presets


CHECK_FAILED = """\
%d committed files differ from the generators (racnn/nets). Either:
  - the package changed and `make prototxts` was not run: run it and commit the
    regenerated files with the change; or
  - you edited a net or solver on purpose: runs train the edited files as they
    are, so nothing is wrong with your runs; this check only tells the
    committed tree apart from the generators (keep your edit, or put it in a
    folder of your own: tools/make_nets.py ... --out mynets/, then --nets mynets/)."""


def _csv(valid, what):
    def parse(text):
        items = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in items if x not in valid]
        if bad or not items:
            raise argparse.ArgumentTypeError("%s must be a comma-separated subset of %s"
                                             % (what, ",".join(valid)))
        return items
    return parse


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--check", action="store_true",
                   help="do not write; exit 1 listing committed files that differ")
    p.add_argument("--root", help="with --check: compare this copy of the repository's "
                   "prototxt/ and solvers/ (default: the repository)")
    g = p.add_argument_group("custom dataset (all of --backbone --num-classes --name --out)")
    g.add_argument("--backbone", choices=list(vocab.BACKBONES))
    g.add_argument("--num-classes", type=int)
    g.add_argument("--name", help="dataset name; the new last layer becomes e.g. fc8_NAME")
    g.add_argument("--train-lmdb", help="default: data/lmdb/NAME/train_r50_s227_matlab "
                   "(runs rewrite it)")
    g.add_argument("--test-lmdb", help="default: data/lmdb/NAME/test_r50_s227_matlab "
                   "(runs rewrite it)")
    g.add_argument("--out", help="output folder")
    g.add_argument("--variants", type=_csv(layout.VARIANTS, "--variants"),
                   default=list(layout.VARIANTS), help="default: %(default)s")
    g.add_argument("--modes", type=_csv(presets.MODES, "--modes"),
                   default=list(presets.MODES), help="default: %(default)s")
    g.add_argument("--mults", type=_csv(presets.MULTS, "--mults"),
                   default=list(presets.MULTS), help="default: %(default)s")
    g.add_argument("--sr-lmdb", help="also write stage-1 SR nets/solvers reading this SR patch LMDB")
    g.add_argument("--batch-size", type=int)
    g.add_argument("--test-batch-size", type=int)
    g.add_argument("--crop-size", type=int, help="net input size (default: the backbone's)")
    g.add_argument("--mean", action="store_true", help="subtract the ImageNet BGR mean")
    g.add_argument("--aux-heads", action="store_true",
                   help="googlenet: keep the two auxiliary heads (loss1, loss2; weight 0.3)")
    g.add_argument("--test-iter", type=int, help="in-solver test batches (default: no in-solver test)")
    g.add_argument("--max-iter", type=int)
    g.add_argument("--base-lr", type=float)
    args = p.parse_args(argv)
    custom = [args.backbone, args.num_classes, args.name, args.out]
    optional = [args.train_lmdb, args.test_lmdb, args.sr_lmdb]
    if any(x is not None for x in custom + optional) and not all(x is not None for x in custom):
        p.error("a custom dataset needs all of --backbone --num-classes --name --out")
    args.custom = all(x is not None for x in custom)
    if args.custom:
        for split in ("train", "test"):
            key = "%s_lmdb" % split
            if getattr(args, key) is None:
                setattr(args, key, vocab.db_path(args.name, split, vocab.DEFAULT_RES,
                                                 root="data/lmdb"))
    if args.custom and args.check:
        p.error("--check compares the committed tree; it takes no custom-dataset options")
    return args


@cli_main
def main(argv=None):
    args = parse_args(argv)
    if args.check:
        root = os.path.abspath(args.root) if args.root else None
        bad = generate.check(root)
        for line in bad:
            print(os.path.relpath(line, root or paths.REPO))
        if bad:
            print(CHECK_FAILED % len(bad), file=sys.stderr)
            sys.exit(1)
        print("prototxt/ and solvers/ are up to date")
        return
    if args.custom:
        net_kw = {k: v for k, v in (("batch_size", args.batch_size),
                                    ("test_batch_size", args.test_batch_size),
                                    ("crop_size", args.crop_size)) if v}
        if args.mean:
            net_kw["mean"] = True
        if args.aux_heads:
            net_kw["aux_heads"] = True
        solver_kw = {k: v for k, v in (("max_iter", args.max_iter),
                                       ("base_lr", args.base_lr)) if v}
        files = generate.custom_files(
            args.out, args.backbone, args.num_classes, args.name, args.train_lmdb,
            args.test_lmdb, variants=args.variants, modes=args.modes, mults_list=args.mults,
            sr_lmdb=args.sr_lmdb, test_iter=args.test_iter, net_kw=net_kw, solver_kw=solver_kw)
        os.makedirs(os.path.join(args.out, "snapshots"), exist_ok=True)
    else:
        files = generate.committed_files()
    written = generate.write_files(files)
    print("%d files generated, %d changed" % (len(files), len(written)))
    for path in written:
        print("  " + os.path.relpath(path))


if __name__ == "__main__":
    main()
