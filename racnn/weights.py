"""Initialise a net from several caffemodels in order, like
``caffe train --weights a,b`` (later files override earlier ones), with an
audit of where every parameter blob came from.

Caffe copies weights by layer name and says nothing about layers it did not
find, so a misnamed layer silently keeps its random filler.  Here every
parameter blob of the net must either be loaded from a file or be on the
``expected_new`` list; otherwise ``load_weights`` raises RacnnError.  The
caffemodels are read with ``caffe_pb2.NetParameter`` (V2 ``layer`` and V1
``layers`` fields, legacy 4-D blob shapes as in the VGG-16 release) instead
of ``Net.copy_from``, so the audit is exact.

The authors' SR weights were trained on RGB images, our databases are BGR
(docs/DESIGN.md): ``swap_sr_rgb_to_bgr`` reverses sconv1's input channels and
sconv3's output channels (weights and bias), which makes the SR front compute
on BGR input exactly what it computed on the RGB input.
"""
import collections
import os

import numpy as np
from caffe.proto import caffe_pb2

from .atomic import atomic_path
from .errors import RacnnError
from .nets.dummy import instantiate

AuditRow = collections.namedtuple("AuditRow", "layer index shape source note")
NEW = "new"


class Audit(object):
    """Where each parameter blob of a net came from."""

    def __init__(self, rows, files, ignored):
        self.rows = list(rows)          # AuditRow per (layer, blob index), net order
        self.files = list(files)        # caffemodels in load order
        self.ignored = dict(ignored)    # file -> layers with blobs that the net lacks

    def source(self, layer, index=0):
        for row in self.rows:
            if row.layer == layer and row.index == index:
                return row.source
        raise KeyError((layer, index))

    def loaded_from(self, path):
        """Layers (at least one blob) loaded from ``path``, in net order."""
        return list(dict.fromkeys(r.layer for r in self.rows if r.source == path))

    def new_layers(self):
        return list(dict.fromkeys(r.layer for r in self.rows if r.source == NEW))

    def to_dict(self):
        """JSON-ready form (for a run folder)."""
        return {"files": self.files,
                "blobs": [dict(layer=r.layer, index=r.index, shape=list(r.shape),
                               source=r.source, note=r.note) for r in self.rows],
                "ignored": self.ignored}

    def format(self):
        """A text table: layer, blob, shape, source (+ note), then a summary."""
        header = ("layer", "blob", "shape", "source")
        body = [(r.layer, str(r.index), "x".join(str(d) for d in r.shape),
                 r.source + ("  (%s)" % r.note if r.note else "")) for r in self.rows]
        widths = [max(len(row[i]) for row in [header] + body) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3]
                 for row in [header] + body]
        for path in self.files:
            count = sum(1 for r in self.rows if r.source == path)
            lines.append("%d blobs from %s" % (count, path))
            if self.ignored.get(path):
                names = self.ignored[path]
                lines.append("  not in this net (ignored): %s%s" % (
                    ", ".join(names[:8]), " ... (%d layers)" % len(names) if len(names) > 8 else ""))
        lines.append("%d blobs new (filler initialised)" % sum(r.source == NEW for r in self.rows))
        return "\n".join(lines)

    __str__ = format


def blob_shape(blob):
    """Shape of a BlobProto: ``shape`` when present, else the legacy 4-D
    num/channels/height/width."""
    if blob.HasField("shape"):
        return tuple(int(d) for d in blob.shape.dim)
    return (blob.num, blob.channels, blob.height, blob.width)


def _varint(raw, pos):
    value, shift = 0, 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _packed(message, field_number, dtype):
    """A packed repeated numeric field of ``message`` as a numpy array
    without a Python loop over its values: serialise the message (C++) and
    view the field's payload in the wire format.  ``np.asarray(blob.data)``
    takes minutes on VGG-16's 100M-value fc6; this takes seconds."""
    raw = message.SerializeToString()
    pos = 0
    while pos < len(raw):
        key, pos = _varint(raw, pos)
        wire = key & 7
        if wire == 2:
            length, pos = _varint(raw, pos)
            if key >> 3 == field_number:
                return np.frombuffer(raw, dtype=dtype, count=length // np.dtype(dtype).itemsize,
                                     offset=pos)
            pos += length
        elif wire == 0:
            pos = _varint(raw, pos)[1]
        else:
            pos += {1: 8, 5: 4}[wire]
    return np.zeros(0, dtype)


def _blob_array(blob):
    if len(blob.data):
        return _packed(blob, 5, "<f4")                        # BlobProto.data
    return _packed(blob, 8, "<f8").astype(np.float32)         # BlobProto.double_data


def _shapes_match(target, blob):
    """Caffe's Blob::ShapeEquals: exact shape, or legacy 4-D dims equal to
    the target padded with leading 1s."""
    if blob.HasField("shape"):
        return tuple(target) == blob_shape(blob)
    return len(target) <= 4 and (1,) * (4 - len(target)) + tuple(target) == blob_shape(blob)


def read_caffemodel(path):
    """{layer name: [BlobProto, ...]} of a caffemodel (V2 ``layer`` or V1
    ``layers``), for layers that have blobs."""
    if not os.path.isfile(path):
        raise RacnnError("caffemodel not found: %s" % path)
    proto = caffe_pb2.NetParameter()
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError or RuntimeError
        raise RacnnError("%s is not a Caffe model (binary NetParameter): %s" % (path, exc))
    layers = collections.OrderedDict()
    for layer in list(proto.layer) + list(proto.layers):
        if len(layer.blobs):
            layers[layer.name] = list(layer.blobs)
    if not layers and len(data):
        raise RacnnError("%s holds no layers with weights (is it a caffemodel?)" % path)
    return layers


def _plan(net, caffemodels):
    """Which file each (layer, index) comes from: the last file holding the
    layer wins, as in Caffe's ``--weights a,b``."""
    plan, ignored = {}, collections.OrderedDict()
    for path in caffemodels:
        layers = read_caffemodel(path)
        ignored[path] = [name for name in layers if name not in net.params]
        for name, blobs in layers.items():
            if name not in net.params:
                continue
            targets = net.params[name]
            if len(blobs) != len(targets):
                raise RacnnError("layer %r: %s has %d blobs, the net's layer has %d"
                                 % (name, path, len(blobs), len(targets)))
            for index, (blob, target) in enumerate(zip(blobs, targets)):
                if not _shapes_match(target.data.shape, blob):
                    raise RacnnError(
                        "shape mismatch in layer %r blob %d: %s has %s, the net expects %s"
                        % (name, index, path, "x".join(map(str, blob_shape(blob))),
                           "x".join(map(str, target.data.shape))))
                plan[(name, index)] = (path, blob)
    return plan, ignored


def load_weights(net, caffemodels, expected_new=(), swap_sr_rgb_to_bgr=False):
    """Copy blobs from ``caffemodels`` (in order; later ones override) into
    the pycaffe ``net`` by layer name and return the Audit.  Raises
    RacnnError when a parameter blob is neither loaded nor in a layer named
    in ``expected_new``, on a shape mismatch, and for ``expected_new`` names
    that are not layers of the net."""
    if isinstance(caffemodels, str):
        caffemodels = [caffemodels]
    caffemodels = [str(p) for p in caffemodels]
    expected_new = set(expected_new)
    unknown = sorted(expected_new - set(net.params))
    if unknown:
        raise RacnnError("expected-new layers not in the net: %s (the net's parameter "
                         "layers: %s)" % (", ".join(unknown), ", ".join(net.params)))
    plan, ignored = _plan(net, caffemodels)
    missing = [(name, i) for name, blobs in net.params.items() for i in range(len(blobs))
               if (name, i) not in plan and name not in expected_new]
    if missing:
        layers = list(collections.OrderedDict((name, 1) for name, _ in missing))
        unused = sorted({n for names in ignored.values() for n in names})
        raise RacnnError(
            "no weights for %d blobs in layers %s: none of %s has them and they are not "
            "expected to be new (misnamed layer or wrong file?)%s"
            % (len(missing), ", ".join(layers), ", ".join(caffemodels) or "(no files)",
               "; layers in the files that the net lacks: " + ", ".join(unused) if unused else ""))
    rows = []
    for name, blobs in net.params.items():
        for index, target in enumerate(blobs):
            if (name, index) in plan:
                path, blob = plan[(name, index)]
                target.data[...] = _blob_array(blob).reshape(target.data.shape)
                note = "expected new, loaded anyway" if name in expected_new else ""
                rows.append(AuditRow(name, index, target.data.shape, path, note))
            else:
                rows.append(AuditRow(name, index, target.data.shape, NEW, ""))
    if swap_sr_rgb_to_bgr:
        rows = _swap_sr(net, rows)
    return Audit(rows, caffemodels, ignored)


def _swap_sr(net, rows):
    """Reverse sconv1's input channels and sconv3's output channels + bias."""
    for name in ("sconv1", "sconv3"):
        if name not in net.params:
            raise RacnnError("swap_sr_rgb_to_bgr: the net has no layer %r" % name)
        if any(r.layer == name and r.source == NEW for r in rows):
            raise RacnnError("swap_sr_rgb_to_bgr: %s was not loaded from a caffemodel; "
                             "only loaded (RGB-trained) SR weights are swapped" % name)
    w1 = net.params["sconv1"][0].data
    if w1.shape[1] != 3:
        raise RacnnError("swap_sr_rgb_to_bgr: sconv1 has %d input channels, not 3" % w1.shape[1])
    w1[...] = w1[:, ::-1].copy()
    for blob in net.params["sconv3"]:
        if blob.data.shape[0] != 3:
            raise RacnnError("swap_sr_rgb_to_bgr: sconv3 has %d outputs, not 3"
                             % blob.data.shape[0])
        blob.data[...] = blob.data[::-1].copy()
    notes = {("sconv1", 0): "RGB->BGR: input channels reversed",
             ("sconv3", 0): "RGB->BGR: output channels reversed",
             ("sconv3", 1): "RGB->BGR: output channels reversed"}
    return [r._replace(note="; ".join(filter(None, [r.note, notes[(r.layer, r.index)]])))
            if (r.layer, r.index) in notes else r for r in rows]


def init_caffemodel(model_prototxt, caffemodels, out_path, expected_new=(),
                    swap_sr_rgb_to_bgr=False, seed=None):
    """Build the net of ``model_prototxt`` (deploy or train/val; TEST phase,
    Data layers replaced by DummyData so no database is needed), load the
    caffemodels with the audit, and save the merged weights atomically to
    ``out_path`` -- the file ``caffe train --weights`` gets.  Returns the Audit.

    The new layers keep the values of Caffe's own fillers, drawn from Caffe's
    random generator: with ``seed`` it is seeded first (as ``caffe train``
    seeds it from the solver's random_seed before building its net), so the
    same seed gives the same file."""
    import caffe
    if seed is not None:
        caffe.set_random_seed(int(seed))
    net = instantiate(model_prototxt, caffe.TEST)
    audit = load_weights(net, caffemodels, expected_new, swap_sr_rgb_to_bgr)
    # Caffe writes the file itself, so it gets a path rather than a handle
    with atomic_path(out_path) as tmp:
        net.save(tmp)
    return audit
