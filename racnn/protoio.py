"""Reading Caffe's text prototxt files (nets and solvers) with one clear error."""
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
