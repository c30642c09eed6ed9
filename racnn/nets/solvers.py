"""Solvers for stage 1 (SR pre-training) and stage 2 (classification), built
from a dict through ``caffe_pb2.SolverParameter(**params)`` so a misspelt
field fails at generation time.  Defaults are the authors' released solvers
(docs/METHOD.md, "Stage 1" and "Stage 2"); every default carries a note that ``write_solver`` writes next to
the value.  Snapshots (``.caffemodel`` + ``.solverstate``) go to
``snapshot_prefix`` -- the run folder -- and a run resumes with
``caffe train --solver S --snapshot <prefix>_iter_N.solverstate``.
"""
from caffe.proto import caffe_pb2

from ..atomic import write_text
from ..errors import RacnnError
from ..protoio import proto_text

#: stage 1, RSRCNN_train/RSRCNN_solver.prototxt of the release (docs/METHOD.md)
STAGE1 = (
    ("type", "SGD", "release: SGD (Caffe's default solver)"),
    ("base_lr", 2e-9, "release RSRCNN_solver: tiny because EuclideanLoss sums over 0..255 pixels"),
    ("lr_policy", "multistep", "release"),
    ("gamma", 0.5, "release: halve the rate at each step"),
    ("stepvalue", [200000, 700000, 1200000], "release"),
    ("momentum", 0.9, "release"),
    ("weight_decay", 0.0, "release"),
    ("max_iter", 15000000, "release (15M; the driver sets its own)"),
    ("display", 100, "release"),
    ("snapshot", 5000, "release"),
    ("test_initialization", False, "release"),
    ("solver_mode", "CPU", "ours: `caffe train --gpu N` switches to GPU (the release: GPU)"),
)
#: stage 2, the released classification solvers (e.g. g_RACNN_alexnet_solver.prototxt)
STAGE2 = (
    ("type", "SGD", "release: SGD (Caffe's default solver)"),
    ("base_lr", 1e-6, "release classification solvers (docs/METHOD.md, Stage 2)"),
    ("lr_policy", "multistep", "release"),
    ("gamma", 0.1, "release"),
    ("stepvalue", [600000], "release"),
    ("momentum", 0.95, "release"),
    ("weight_decay", 0.0005, "release"),
    ("max_iter", 700000, "release"),
    ("display", 100, "ours (release: 5000); the log feeds the training curves"),
    ("test_interval", 5000, "release; only used when test_iter is set"),
    ("snapshot", 5000, "release"),
    ("solver_mode", "CPU", "ours: `caffe train --gpu N` switches to GPU (the release: GPU)"),
)
#: the defaults of each solver kind of racnn.vocab.SOLVERS that has its own
#: (backbone_hr, a stand-in for ImageNet training, takes stage 2's)
STAGES = {"stage1": STAGE1, "stage2": STAGE2}


def _key(stage):
    """``stage1`` / ``stage2`` for 1, 2 or those names; a RacnnError otherwise."""
    key = "stage%d" % stage if stage in (1, 2) else stage
    if key not in STAGES:
        raise RacnnError("stage must be 1 or 2 (stage1, stage2), got %r" % (stage,))
    return key
#: fields whose value is a list in SolverParameter
_REPEATED = ("stepvalue", "test_iter", "test_net", "weights")


def _solver(stage, net_path, snapshot_prefix, overrides):
    params = {key: value for key, value, _ in STAGES[_key(stage)]}
    params["net"] = str(net_path)
    params["snapshot_prefix"] = str(snapshot_prefix)
    for key, value in overrides.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    if "test_iter" not in params:
        params.pop("test_interval", None)   # no in-solver test: evaluation is exact, outside
    for key in _REPEATED:
        if key in params and not isinstance(params[key], (list, tuple)):
            params[key] = [params[key]]
    mode = params.get("solver_mode")
    if isinstance(mode, str):
        if mode.upper() not in ("CPU", "GPU"):
            raise RacnnError("solver_mode must be CPU or GPU, got %r" % mode)
        params["solver_mode"] = getattr(caffe_pb2.SolverParameter, mode.upper())
    try:
        return caffe_pb2.SolverParameter(**params)
    except (ValueError, TypeError) as exc:
        raise RacnnError("bad solver setting: %s" % exc)


def stage1_solver(net_path, snapshot_prefix, **overrides):
    """SolverParameter of stage 1 (SR pre-training) with the release's
    defaults; ``overrides`` set or (with None) remove fields."""
    return _solver(1, net_path, snapshot_prefix, overrides)


def stage2_solver(net_path, snapshot_prefix, **overrides):
    """SolverParameter of stage 2 (classification, CNN or RACNN) with the
    release's defaults.  No in-solver test unless ``test_iter`` is given
    (then every ``test_interval`` = 5000 iterations)."""
    return _solver(2, net_path, snapshot_prefix, overrides)


def _notes(stage):
    if stage is None:
        return {}
    return {key: (value, note) for key, value, note in STAGES[_key(stage)]}


def solver_text(param, stage=None, header=()):
    """Text of a SolverParameter: ``header`` comment lines, then the fields,
    each default of ``stage`` followed by ``# <where it comes from>`` and each
    overridden value by ``# overridden (default: ...)``."""
    notes = _notes(stage)
    defaults = dict((key, list(v) if isinstance(v, list) else [v])
                    for key, (v, _) in notes.items())
    out = []
    for line in proto_text(param, header).splitlines():
        key = line.split(":", 1)[0].strip() if ":" in line and not line.startswith("#") else None
        if key in notes:
            value = getattr(param, key)
            value = list(value) if key in _REPEATED else [value]
            if key == "solver_mode":
                value = [caffe_pb2.SolverParameter.SolverMode.Name(value[0])]
            same = len(value) == len(defaults[key]) and all(
                a == b or (isinstance(b, float) and abs(a - b) <= 1e-6 * abs(b))
                for a, b in zip(value, defaults[key]))
            line += "  # " + (notes[key][1] if same else "overridden (default: %s)" % ", ".join(
                str(v) for v in defaults[key]))
        elif key in ("net", "snapshot_prefix", "test_iter") and stage:
            line += "  # per net and run"
        out.append(line)
    return "\n".join(out) + "\n"


def write_solver(param, path, stage=None, header=()):
    """Atomically write a SolverParameter as commented text (see
    ``solver_text``)."""
    header = list(header) or ["Generated by racnn.nets.solvers; do not edit by hand."]
    write_text(path, solver_text(param, stage, header))
    return path
