"""A stage's schedule: the solver copy it trains with and how long it
trains.  The committed solver is copied with only these fields rewritten
(through protobuf ``text_format``): ``net`` (the copy beside it),
``snapshot_prefix``, ``max_iter`` and the iteration counts that follow from it
(``stepvalue`` / ``stepsize`` scaled by the same factor, ``snapshot``,
``test_interval``, ``test_iter``, ``display``), ``solver_mode`` and, when the
configuration sets one, ``random_seed``; the configuration's ``solver``
overrides are applied last.  Learning rates, momentum and policy are trained
exactly as written in solvers/.

The release's schedule (``release_max_iter``): as many images as the
release's length x the committed net's batch size, where the length
(``release_length``) is the committed solver's ``max_iter``, or for stage 2
with ``stage2_length`` "notebooks" the released notebooks' 1,000,000
iterations (their loop of ``solver.step(1)`` never reaches the solver's
700k; the learning rate stays 1e-7 from 600k on).  Step positions scale with
the stage's length against that reference, so a shortened stage keeps the
release's proportions.  A stage that sees fewer images while keeping the
release's learning rate is flagged short (``schedule_shortfall``).
"""
import math

from .. import protoio, vocab
from ..errors import RacnnError
from ..rundir import layout
from ..rundir.layout import snapshot_prefix


def scaled_solver(src, max_iter, test_iter=None, snapshots=10, tests=5, gpu=False, seed=None,
                  stage_dir=".", reference=None):
    """The solver ``src`` for a stage folder: iteration counts for ``max_iter``
    (steps scaled from the committed schedule, whose length is ``reference``
    iterations: default its ``max_iter``), ``snapshots`` snapshots and
    ``tests`` in-solver test passes of ``test_iter`` batches (none when
    ``test_iter`` is None)."""
    from caffe.proto import caffe_pb2
    msg = protoio.read_solver(src)
    old = reference or msg.max_iter or max_iter
    factor = float(max_iter) / old

    def scale(v):
        return max(1, int(round(v * factor)))
    steps = [scale(v) for v in msg.stepvalue]
    del msg.stepvalue[:]
    msg.stepvalue.extend(steps)
    if msg.HasField("stepsize"):
        msg.stepsize = scale(msg.stepsize)
    msg.max_iter = int(max_iter)
    msg.net = layout.TRAIN_VAL
    msg.ClearField("train_net")
    msg.ClearField("test_net")
    msg.snapshot_prefix = snapshot_prefix(stage_dir)
    msg.snapshot = max(1, int(math.ceil(max_iter / float(max(1, snapshots)))))
    msg.display = max(1, min(msg.display or 20, max_iter // 20 or 1))
    del msg.test_iter[:]
    if test_iter:
        msg.test_iter.append(int(test_iter))
        msg.test_interval = max(1, int(math.ceil(max_iter / float(max(1, tests)))))
    else:
        msg.test_interval = max_iter + 1        # no in-solver test (eval/ is exact)
    msg.test_initialization = False
    msg.solver_mode = caffe_pb2.SolverParameter.GPU if gpu else caffe_pb2.SolverParameter.CPU
    if seed is not None:
        msg.random_seed = int(seed)
    return msg




def release_length(cfg, solver_key, nets):
    """The release's length of a stage, in iterations of the committed batch:
    the notebooks' 1,000,000 for stage 2 with ``stage2_length`` "notebooks",
    else the committed solver's ``max_iter``."""
    if solver_key == "stage2" and cfg.get("stage2_length") == "notebooks":
        return vocab.NOTEBOOK_STAGE2_ITERS
    return protoio.solver_max_iter(nets["solver"])


def release_max_iter(cfg, solver_key, nets, batch):
    """The release's schedule for a stage training with ``batch``: as many
    images as its ``release_length`` x the committed train_val's training
    batch (``nets``: the stage's sources, {"train_val", "solver"})."""
    # (read without Caffe's schema: the sweep's cost estimate runs this on a login node)
    committed_batch = protoio.train_batch_size(nets["train_val"])
    length = release_length(cfg, solver_key, nets)
    return int(math.ceil(length * float(committed_batch) / batch))


def stage_max_iter(cfg, nets, batch, epochs, images, solver_key=None):
    """A stage's iteration count: ``iters`` when set (smoke), else
    ``epochs`` over ``images`` training images, else the release's schedule
    (``release_length`` of the stage's ``solver_key``)."""
    if cfg["iters"]:
        return int(cfg["iters"])
    if epochs:
        return int(math.ceil(float(epochs) * images / batch))
    return release_max_iter(cfg, solver_key, nets, batch)


def schedule_shortfall(cfg, solver_key, nets, rec):
    """{"max_iter", "release_max_iter", "base_lr"} when the stage of record
    ``rec`` sees fewer images than the release's schedule and keeps the
    committed base_lr; else None (the release's schedule, or a learning rate
    the configuration chose in ``solver[solver_key]``)."""
    if not rec or not rec.get("max_iter") or "base_lr" in (cfg["solver"] or {}).get(
            solver_key, {}):
        return None
    release = release_max_iter(cfg, solver_key, nets, rec["batch_size"])
    if rec["max_iter"] >= release:
        return None
    committed = protoio.read_solver(nets["solver"])
    return {"max_iter": rec["max_iter"], "release_max_iter": release,
            "base_lr": float("%.6g" % committed.base_lr)}     # as written, not float32


def set_solver_field(msg, key, value, where):
    """Set a solver field from the configuration's ``solver`` overrides."""
    try:
        field = msg.DESCRIPTOR.fields_by_name[key]
    except KeyError:
        raise RacnnError("unknown solver field %r in the configuration's solver overrides "
                         "(for %s)" % (key, where))
    if field.label == field.LABEL_REPEATED:
        del getattr(msg, key)[:]
        getattr(msg, key).extend(value if isinstance(value, (list, tuple)) else [value])
    else:
        setattr(msg, key, value)
