"""Exact per-class evaluation of Caffe snapshots on a test LMDB.

  eval_per_class.py --model deploy.prototxt --weights A.caffemodel [B ...] \\
                    --lmdb TEST_DB --out DIR [--train-val train_val.prototxt]
  eval_per_class.py RUN_DIR [--all-snapshots]      (a run folder: each of its
        cnn/racnn_g/racnn_p stages into <stage>/eval; or one stage folder)
  eval_per_class.py --from-scores DIR [--out DIR2] (recompute, no Caffe needed)

One pass over every image (the last partial batch once), preprocessing equal
to the train_val net's TEST phase.  Writes scores.npy, labels.npy,
metrics.json, per_class.csv, confusion.png into DIR.  Several snapshots: each
in DIR/iter_<N>/, the last one also in DIR itself, plus
DIR/accuracy_vs_iteration.csv and .png.  Classes without test images are
reported and left out of the mean class accuracy (the paper's metric).
"""
import os

from .. import atomic
from ..cli import tool_parser
from ..errors import RacnnError, cli_main
from .. import vocab
from ..rundir import reader
from ..rundir.layout import snapshot_iteration
from .evaluate import evaluate
from .metrics import SUMMARY_KEYS, format_table, metrics_from_scores
from .outputs import load_eval, write_curve, write_eval, write_eval_files
from ..protoio import test_data_layer


def parse_args(argv, prog=None):
    p = tool_parser(__doc__, prog)
    p.add_argument("run", nargs="?", help="a run folder (config.json + stage folders) "
                   "or one stage folder (solver.prototxt, deploy.prototxt, snapshots/)")
    p.add_argument("--model", help="deploy prototxt (Input 'data', output 'prob')")
    p.add_argument("--weights", nargs="+", help="snapshot(s); each is evaluated separately")
    p.add_argument("--lmdb", help="test database folder (LMDB + manifest.json)")
    p.add_argument("--train-val", help="train_val prototxt whose TEST Data layer gives "
                   "crop/mean/scale (default: the run's; else no mean, scale 1)")
    p.add_argument("--out", help="output folder (default: <stage>/eval of a run, or the "
                   "--from-scores DIR)")
    p.add_argument("--batch-size", type=int, help="images per forward pass "
                   "(default: the deploy net's input batch)")
    p.add_argument("--gpu", type=int, help="GPU id (default: CPU)")
    p.add_argument("--all-snapshots", action="store_true",
                   help="with a run folder: every snapshot of each stage "
                   "(accuracy against iteration), not only the final model")
    p.add_argument("--from-scores", metavar="DIR",
                   help="recompute metrics from DIR/scores.npy + labels.npy")
    p.add_argument("--allow-unused", action="store_true",
                   help="evaluate even when the snapshot has layers the deploy net lacks "
                   "(they are dropped; default: refuse)")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    args = p.parse_args(argv)
    if not args.from_scores and not args.run and not (args.model and args.weights):
        p.error("give a run folder, or --model and --weights (with --lmdb), "
                "or --from-scores DIR")
    return args


def _from_scores(args):  # -> [([(iteration, metrics)], out)]
    scores, labels, meta = load_eval(args.from_scores)
    source = os.path.join(args.from_scores, "scores.npy")
    if meta.get("snapshot"):
        source += " (snapshot %s)" % meta["snapshot"]
    metrics = metrics_from_scores(scores, labels, class_names=meta.get("class_names"),
                                  source=source)
    extra = {k: v for k, v in meta.items() if k not in SUMMARY_KEYS}
    extra["recomputed_from"] = os.path.abspath(args.from_scores)
    out = args.out or args.from_scores
    write_eval(out, scores, labels, metrics, extra)
    return [([(meta.get("iteration"), metrics)], out)]


def _stage_job(args, run, stage, out):
    if not stage.deploy:
        raise RacnnError("%s: no deploy.prototxt" % stage.dir)
    if args.weights:
        weights = args.weights
    elif args.all_snapshots and stage.snapshots:
        weights = [p for _, p in stage.snapshots]
    else:
        weights = [reader.latest_model(stage)]
        if not weights[0]:
            raise RacnnError("%s: no snapshot *_iter_N.caffemodel yet" % stage.dir)
    db = args.lmdb or reader.test_db(run, stage)
    if not db:
        raise RacnnError("%s: no test database found; give --lmdb" % stage.dir)
    return (args.model or stage.deploy, args.train_val or stage.train_val, list(weights), db,
            out or reader.eval_dir(run, stage))


def _jobs(args):
    """[(deploy, train_val, [snapshot, ...], db, out)] from a run or the flags.
    A run folder: every classification stage (cnn, racnn_g, racnn_p) with a
    model, each into <stage>/eval; a stage folder: that stage."""
    if args.run:
        run = reader.read_run(args.run)
        stages = [s for s in run.stages if s.name in vocab.VARIANTS and
                  (s.done or s.snapshots)] or [reader.final_stage(run)]
        if args.out and len(stages) > 1:
            raise RacnnError("%s has %d stages to evaluate; --out needs a single stage "
                             "folder" % (args.run, len(stages)))
        return [_stage_job(args, run, s, args.out) for s in stages]
    db = args.lmdb
    if not db:
        if not args.train_val:
            raise RacnnError("no --lmdb given and no --train-val net to read the test "
                             "database from")
        db = test_data_layer(args.train_val).data_param.source
    if not args.out:
        raise RacnnError("--out is required without a run folder")
    return [(args.model, args.train_val, list(args.weights), db, args.out)]


def evaluate_snapshots(deploy, train_val, weights, db, out, batch_size=None, gpu=None,
                       allow_unused=False):
    """Evaluate each snapshot of ``weights`` and write ``out`` (see the module
    docstring); returns [(iteration, metrics)]."""
    results = []
    for w in weights:
        it = snapshot_iteration(w)
        r = evaluate(deploy, w, db, train_val=train_val, batch_size=batch_size,
                     gpu=gpu, desc="iter %s" % it if it is not None else "evaluate",
                     allow_unused=allow_unused)
        extra = dict(r.info, iteration=it, snapshot=os.path.abspath(w),
                     class_names=[c["name"] for c in r.metrics["per_class"]])
        results.append((it, r, extra))
    with atomic.atomic_dir(out, overwrite=True) as tmp:
        if len(results) > 1:
            for i, (it, r, extra) in enumerate(results):
                sub = os.path.join(tmp, "iter_%s" % (it if it is not None else i))
                os.makedirs(sub)
                write_eval_files(sub, r.scores, r.labels, r.metrics, extra)
            write_curve(tmp, [(it if it is not None else i, r.metrics)
                         for i, (it, r, _) in enumerate(results)])
        it, r, extra = results[-1]
        write_eval_files(tmp, r.scores, r.labels, r.metrics, extra)
    return [(it, r.metrics) for it, r, _ in results]


def _live(args):
    done = []
    for deploy, train_val, weights, db, out in _jobs(args):
        done.append((evaluate_snapshots(deploy, train_val, weights, db, out,
                                        args.batch_size, args.gpu, args.allow_unused), out))
    return done


@cli_main
def main(argv=None, prog=None):
    args = parse_args(argv, prog)
    done = _from_scores(args) if args.from_scores else _live(args)
    if not args.quiet:
        for results, out in done:
            for it, m in results:
                print(block(m, _block_title(out, it)))
            print("written: %s" % out)
    return done


def block(metrics, title):
    """The printed block of one evaluation: a first line naming it and saying
    how many classes have test images ("24 of 50 classes have test images":
    a subset's absent classes are left out of the mean), then the metrics
    and per-class rows of format_table."""
    m = metrics
    head = "%s: %d images; %d of %d classes have test images" % (
        title, m["num_images"], m["num_classes_present"], m["num_classes"])
    return "\n".join([head] + format_table(m).splitlines()[1:])


def _block_title(out, iteration):
    """What a printed block is about, on its first line: the stage (the folder
    holding ``<stage>/eval``) or the output folder, and the iteration (a run
    folder's stages were named only after their blocks, by "written: ...")."""
    out = os.path.normpath(out)
    name = os.path.basename(os.path.dirname(out)) if os.path.basename(out) == "eval" else out
    return name + (", iteration %s" % iteration if iteration is not None else "")
