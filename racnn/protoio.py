"""Caffe's text prototxt files (nets and solvers): reading them with one clear
error, the text they are written as (one writer for prototxt/, solvers/ and
run-folder copies, so a diff between them shows only what was changed),
Caffe's phase rules for a layer, and a few fields read without Caffe's
schema (``read_fields``: pure Python, for the sweep's cost estimate on a
login node)."""
import os
import re

from .atomic import write_text
from .errors import RacnnError

PHASES = ("train", "test")


def read_prototxt(path, message):
    """Parse the text prototxt ``path`` into the protobuf ``message`` (e.g. a
    fresh ``caffe_pb2.NetParameter()``) and return it; a missing or malformed
    file is a RacnnError naming the file."""
    from google.protobuf import text_format
    what = type(message).__name__
    if not os.path.isfile(path):
        raise RacnnError("%s: no such file (expected a %s prototxt)" % (path, what))
    try:
        with open(path) as fh:
            text_format.Merge(fh.read(), message)
    except (OSError, UnicodeDecodeError, text_format.ParseError) as exc:
        raise RacnnError("%s: cannot read as a %s prototxt: %s" % (path, what, exc))
    return message


def read_net(path):
    """The NetParameter of a net prototxt."""
    from caffe.proto import caffe_pb2
    return read_prototxt(path, caffe_pb2.NetParameter())


def read_solver(path):
    """The SolverParameter of a solver prototxt."""
    from caffe.proto import caffe_pb2
    return read_prototxt(path, caffe_pb2.SolverParameter())


def header_lines(path):
    """The leading ``#`` comment lines of a prototxt file, without ``# ``."""
    lines = []
    with open(path) as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            lines.append(line[1:].rstrip("\n")[1:] if line.startswith("# ") else line[1:].rstrip("\n"))
    return lines


def write_prototxt(path, message, header=()):
    """Atomically write ``message`` (net or solver) as ``proto_text``."""
    write_text(path, proto_text(message, header))
    return path


def layer_phases(layer):
    """The phases (``PHASES``) in which Caffe instantiates ``layer``, by its
    ``include`` / ``exclude`` phase rules (Net::FilterNet: with include rules
    the layer is in the phases they name; otherwise in every phase its
    exclude rules do not name; a rule without a phase names every phase)."""
    def named(rules):
        out = set()
        for rule in rules:
            out.update([PHASES[rule.phase]] if rule.HasField("phase") else PHASES)
        return out
    if len(layer.include):
        return named(layer.include) & set(PHASES)
    return set(PHASES) - named(layer.exclude)


# ---------------------------------------------------------------- transform
def test_data_layer(train_val, required=True):
    """The TEST-phase ``Data`` layer of a train_val prototxt (path or
    NetParameter); when there is none, a RacnnError (None when not
    ``required``)."""
    param = read_net(train_val) if isinstance(train_val, str) else train_val
    for layer in param.layer:
        if layer.type == "Data" and "test" in layer_phases(layer):
            return layer
    if not required:
        return None
    raise RacnnError("%s: no TEST-phase Data layer" % (
        train_val if isinstance(train_val, str) else "train_val net"))


def proto_text(message, header=()):
    """Text of a protobuf message (net or solver) with ``# `` header lines
    (Caffe's text parser accepts comments).  Floats are printed with 7
    significant digits, so float32 values such as 0.1 read as written instead
    of 0.10000000149011612."""
    from google.protobuf import text_format
    lines = ["# " + line if line else "#" for line in header]
    body = text_format.MessageToString(message, float_format=".7g")
    return "".join(line + "\n" for line in lines) + body


# ------------------------------------------------- without Caffe's schema
_TOKEN = re.compile(r'\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|([{}:])|([^\s{}:#"]+)')


def read_fields(path):
    """The prototxt ``path`` as a list of ``(field, value)`` pairs, a value
    being its text (quotes removed) or such a list for a message, without
    Caffe's schema (pure Python; no check that the fields exist)."""
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError as exc:
        raise RacnnError("%s: cannot read (%s)" % (path, exc.strerror))
    tokens = [m.group(1) if m.group(1) is not None else m.group(2) or m.group(3)
              for m in _TOKEN.finditer(text) if m.lastindex]
    stack, key = [[]], None
    for tok in tokens:
        if tok == "{":
            stack[-1].append((key, []))
            stack.append(stack[-1][-1][1])
            key = None
        elif tok == "}":
            if len(stack) == 1:
                raise RacnnError("%s: unbalanced braces" % path)
            stack.pop()
        elif tok != ":":
            if key is None:
                key = tok
            else:
                stack[-1].append((key, tok))
                key = None
    if len(stack) != 1:
        raise RacnnError("%s: unbalanced braces" % path)
    return stack[0]


def field(fields, name, default=None):
    """The first value of ``name`` among ``fields`` (read_fields' pairs)."""
    return next((v for k, v in fields if k == name), default)


def solver_max_iter(path):
    """A solver prototxt's ``max_iter``, without Caffe's schema."""
    value = field(read_fields(path), "max_iter")
    if value is None or not str(value).isdigit():
        raise RacnnError("%s: no max_iter" % path)
    return int(value)


def train_batch_size(path):
    """The batch size of a train_val prototxt's TRAIN-phase Data layer (a
    layer without phase rules counts), without Caffe's schema."""
    for key, layer in read_fields(path):
        if key != "layer" or field(layer, "type") != "Data":
            continue
        phases = [field(rule, "phase") for k, rule in layer if k == "include"]
        if phases in ([], ["TRAIN"]):
            batch = field(field(layer, "data_param", []), "batch_size")
            if batch is not None:
                return int(batch)
    raise RacnnError("%s: no TRAIN-phase Data layer with a batch_size" % path)

