"""Caffe's text prototxt files (nets and solvers): reading them with one clear
error, and the text they are written as."""
import os

from .errors import RacnnError


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


def proto_text(message, header=()):
    """Text of a protobuf message (net or solver) with ``# `` header lines
    (Caffe's text parser accepts comments).  Floats are printed with 7
    significant digits, so float32 values such as 0.1 read as written instead
    of 0.10000000149011612."""
    from google.protobuf import text_format
    lines = ["# " + line if line else "#" for line in header]
    body = text_format.MessageToString(message, float_format=".7g")
    return "".join(line + "\n" for line in lines) + body
