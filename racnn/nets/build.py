"""Net builders: classification train/val and deploy nets (CNN or RACNN),
the stage-1 SR pre-training net and the SR-only deploy net.  Each returns a
``caffe_pb2.NetParameter``; ``write_net`` writes one as commented text."""
import copy
import importlib
import re

import caffe
from caffe import layers as L
from caffe import params as P
from caffe.proto import caffe_pb2

from .. import vocab
from ..errors import RacnnError
from ..protoio import layer_phases, write_prototxt
from . import presets
from .sr_front import SR_NAMES, add_sr_front

#: each backbone of racnn.vocab is built by the module racnn.nets.<name>
BACKBONE_MODULES = {name: importlib.import_module("." + name, __package__)
                    for name in vocab.BACKBONES}
PHASES = ("train_val", "deploy")

#: default (train, test) batch sizes (racnn.vocab).  AlexNet 8 / VGG-16 4 for
#: training and 2 for testing are the release's (docs/METHOD.md); GoogLeNet
#: has no released file (8, ours, it fits beside AlexNet in memory); tiny is
#: the CPU demo's (ours).
DEFAULT_BATCH = {b.name: (b.train_batch, b.test_batch) for b in vocab.BACKBONES.values()}
#: Caffe's ImageNet mean in BGR (ilsvrc_2012_mean.npy averaged per channel,
#: rounded as in Caffe's examples); only with ``mean=True`` -- the release
#: subtracts no mean.
IMAGENET_MEAN_BGR = (104, 117, 123)
#: stage-1 batch size of the released solver/net (docs/METHOD.md)
SR_BATCH = 32


def _module(backbone):
    return BACKBONE_MODULES[vocab.backbone_spec(backbone).name]


def _dataset_key(dataset):
    """Canonical name of a paper dataset, or a sanitised custom name."""
    if dataset is None:
        return None
    try:
        return vocab.dataset_spec(dataset).name
    except RacnnError:
        key = re.sub(r"[^A-Za-z0-9_]+", "_", str(dataset)).strip("_").lower()
        if not key:
            raise RacnnError("dataset name %r has no usable characters" % dataset)
        return key


def last_layer_name(backbone, dataset=None):
    """Name of the new last layer: the zoo layer it replaces plus the
    dataset, e.g. ``fc8_cars``, ``loss3/classifier_birds``; ``_finetune``
    (the release's suffix) without a dataset."""
    key = _dataset_key(dataset)
    return "%s_%s" % (_module(backbone).LAST, key or "finetune")


def _params_fn(table):
    """role -> NetSpec param blocks (None everywhere when ``table`` is None)."""
    return lambda role: presets.param_blocks(table[role]) if table else None


def _data_layer(source, batch_size, crop, mirror, phase, mean, ntop=2):
    transform = dict(mirror=mirror, crop_size=crop)
    if mean:
        transform["mean_value"] = list(IMAGENET_MEAN_BGR)
    return L.Data(ntop=ntop, include=dict(phase=phase), transform_param=transform,
                  data_param=dict(source=source, batch_size=batch_size, backend=P.Data.LMDB))


def _add_test_data_layer(proto, source, batch_size):
    """Insert a TEST-phase copy of the first (TRAIN) Data layer: no mirror,
    its own source and batch size."""
    train = proto.layer[0]
    test = copy.deepcopy(train)
    test.include[0].phase = caffe_pb2.TEST
    test.transform_param.mirror = False
    test.data_param.source = source
    test.data_param.batch_size = batch_size
    layers = list(proto.layer)
    del proto.layer[:]
    proto.layer.extend([layers[0], test] + layers[1:])


def _default_source(dataset, split, given, what):
    if given:
        return given
    key = _dataset_key(dataset)
    if key in vocab.DATASETS:
        # relative to the repository root, where Caffe runs
        return vocab.db_path(key, split, vocab.DEFAULT_RES, root="data/lmdb")
    raise RacnnError("%s is required for dataset %r (only the paper's datasets "
                     "have default databases)" % (what, dataset))


def build_net(backbone, num_classes, *, dataset=None, racnn=False, sr_init="g", mode="e2e",
              mults="paper", phase="train_val", train_source=None, test_source=None,
              batch_size=None, test_batch_size=None, crop_size=None, mean=False,
              aux_heads=False, deploy_batch=1, last_layer=None):
    """A classification net: optional SR front (``racnn=True``) in front of a
    zoo backbone with a new last layer of ``num_classes`` outputs.

    ``phase="train_val"``: LMDB Data layers (TRAIN: mirror + random crop to
    the input size; TEST: centre crop), SoftmaxWithLoss ``loss`` and a
    TEST-phase top-1 Accuracy ``accuracy``; multipliers from
    ``presets.preset(mults, mode, sr_init)``.  ``phase="deploy"``: Input
    ``data`` (deploy_batch x 3 x S x S) and Softmax ``prob``, no param blocks.
    """
    spec = vocab.backbone_spec(backbone)
    bname = spec.name
    module = BACKBONE_MODULES[bname]
    presets.check(mults, mode, sr_init)
    if phase not in PHASES:
        raise RacnnError("unknown phase %r; valid: %s" % (phase, ", ".join(PHASES)))
    if int(num_classes) < 2:
        raise RacnnError("num_classes must be at least 2, got %r" % (num_classes,))
    if aux_heads and bname != "googlenet":
        raise RacnnError("aux_heads exists only for googlenet, not %r" % backbone)
    crop = int(crop_size or spec.input_size)
    last = last_layer or last_layer_name(bname, dataset)
    train_batch, test_batch = DEFAULT_BATCH[bname]

    n = caffe.NetSpec()
    if phase == "deploy":
        n["data"] = L.Input(shape=dict(dim=[int(deploy_batch), 3, crop, crop]))
        table = None
    else:
        train_src = _default_source(dataset, "train", train_source, "train_source")
        test_src = _default_source(dataset, "test", test_source, "test_source")
        n["data"], n["label"] = _data_layer(train_src, int(batch_size or train_batch), crop,
                                            True, caffe_pb2.TRAIN, mean)
        table = presets.preset(mults, mode, sr_init)
    params = _params_fn(table)
    x = add_sr_front(n, n["data"], params) if racnn else n["data"]
    logits, aux = module.build(n, x, int(num_classes), last, params, aux_heads=aux_heads)
    if phase == "deploy":
        n["prob"] = L.Softmax(logits)
    else:
        n["loss"] = L.SoftmaxWithLoss(logits, n["label"])
        n["accuracy"] = L.Accuracy(logits, n["label"], include=dict(phase=caffe_pb2.TEST))
        for loss_name, aux_logits, weight in aux:
            n[loss_name] = L.SoftmaxWithLoss(aux_logits, n["label"], loss_weight=weight)
    proto = n.to_proto()
    proto.name = ("RACNN-" if racnn else "") + spec.title
    if phase == "train_val":
        _add_test_data_layer(proto, test_src, int(test_batch_size or test_batch))
    return proto


def build_sr_pretrain(source, batch_size=SR_BATCH, mults="release", patch=vocab.SR_PATCH,
                      test_source=None, test_batch_size=None):
    """Stage-1 SR pre-training net: one LMDB of 6-channel Datums (0-2: the
    LR-upscaled patch, 3-5: the HR patch, BGR; DESIGN.md) -> Slice ->
    ``data``, ``label`` -> SR front -> ``sum`` -> EuclideanLoss(sum, label).
    The crop (TRAIN random, TEST centre) cuts input and label together."""
    n = caffe.NetSpec()
    n["pairs"] = L.Data(include=dict(phase=caffe_pb2.TRAIN),
                        transform_param=dict(mirror=False, crop_size=int(patch)),
                        data_param=dict(source=source, batch_size=int(batch_size),
                                        backend=P.Data.LMDB))
    n["data"], n["label"] = L.Slice(n["pairs"], ntop=2, axis=1, slice_point=3)
    x = add_sr_front(n, n["data"], _params_fn(presets.sr_pretrain_preset(mults)))
    n["loss"] = L.EuclideanLoss(x, n["label"])
    proto = n.to_proto()
    proto.name = "RACNN-SR-pretrain"
    for layer in proto.layer:
        if layer.type == "Slice":
            layer.name = "slice"
    if test_source:
        _add_test_data_layer(proto, test_source, int(test_batch_size or batch_size))
    return proto


def build_sr_deploy(height=vocab.SR_HR_SIZE, width=vocab.SR_HR_SIZE, batch=1):
    """SR-only deploy net for viewing SR output: Input ``data`` (batch x 3 x
    height x width) -> SR front -> ``sum``."""
    n = caffe.NetSpec()
    n["data"] = L.Input(shape=dict(dim=[int(batch), 3, int(height), int(width)]))
    add_sr_front(n, n["data"], _params_fn(None))
    proto = n.to_proto()
    proto.name = "RACNN-SR"
    return proto


#: layers a deploy net drops: they need the label or only report on training
_TRAINING_ONLY = ("SoftmaxWithLoss", "Accuracy", "EuclideanLoss")


def deploy_from_train_val(train_val, batch=1, where="train_val net"):
    """The deploy net of a classification train/val net (a NetParameter),
    derived the way SSD's generator derives its deploy net, so that a net is
    edited in one file only: the TEST-phase view of the net, its Data layer
    replaced by an Input ``data`` of ``batch`` x 3 x crop x crop (the TEST
    transform's crop), the losses and accuracies dropped together with the
    branches only they read (GoogLeNet's auxiliary heads), the param blocks
    (learning-rate multipliers: training only) cleared, and a Softmax
    ``prob`` over what the main loss read.  ``where`` names the net in errors."""
    layers = [l for l in train_val.layer if "test" in layer_phases(l)]
    data = [l for l in layers if l.type == "Data"]
    if len(data) != 1 or not data[0].transform_param.crop_size:
        raise RacnnError("%s: cannot derive a deploy net: it needs exactly one TEST-phase Data "
                         "layer with a transform_param crop_size (found %d Data layers)"
                         % (where, len(data)))
    losses = [l for l in layers if l.type == "SoftmaxWithLoss"]
    main = [l for l in losses if not l.loss_weight or l.loss_weight[0] == 1] or losses
    if not main:
        raise RacnnError("%s: cannot derive a deploy net: no SoftmaxWithLoss layer says which "
                         "blob holds the class scores" % where)
    logits = main[0].bottom[0]
    crop = int(data[0].transform_param.crop_size)
    out = _inference_net(train_val.name, layers, logits, data[0].top[0],
                         [int(batch), 3, crop, crop], ("Data",), label=set(data[0].top[1:]))
    out.layer.add(name="prob", type="Softmax", bottom=[logits], top=["prob"])
    return out


def _inference_net(name, layers, output, data, shape, inputs, label=()):
    """What blob ``output`` needs of ``layers``: the layers walked back from
    it (none of the ``inputs`` layer types that the Input replaces, the
    training-only ones or those reading a ``label`` blob), in order, behind an
    Input ``data`` of ``shape``, their param blocks (learning-rate
    multipliers: training only) cleared."""
    needed, kept = {output}, []
    for layer in reversed(layers):
        if layer.type in inputs or layer.type in _TRAINING_ONLY:
            continue
        if set(layer.top) & needed and not set(layer.bottom) & set(label):
            kept.append(layer)
            needed.update(layer.bottom)
    out = caffe_pb2.NetParameter(name=name)
    entry = out.layer.add(name=data, type="Input", top=[data])
    entry.input_param.shape.add(dim=shape)
    for layer in reversed(kept):
        copy_ = out.layer.add()
        copy_.CopyFrom(layer)
        del copy_.param[:]
    return out


def sr_deploy_from_train_val(train_val, height=vocab.SR_HR_SIZE, width=vocab.SR_HR_SIZE,
                             batch=1, where="stage-1 net"):
    """The SR-only deploy net of a stage-1 net (``build_sr_pretrain``), derived
    as ``deploy_from_train_val`` derives a classifier's: the TEST-phase view,
    the pair database and its Slice replaced by an Input ``data`` of ``batch``
    x 3 x ``height`` x ``width``, the loss dropped (its first bottom, ``sum``,
    is the output), param blocks cleared."""
    layers = [l for l in train_val.layer if "test" in layer_phases(l)]
    slices = [l for l in layers if l.type == "Slice"]
    losses = [l for l in layers if l.type == "EuclideanLoss"]
    if len(slices) != 1 or len(losses) != 1:
        raise RacnnError("%s: cannot derive the SR deploy net: it needs one Slice (input, "
                         "label) and one EuclideanLoss layer (found %d and %d)"
                         % (where, len(slices), len(losses)))
    return _inference_net(train_val.name.replace("-pretrain", ""), layers, losses[0].bottom[0],
                          slices[0].top[0], [int(batch), 3, int(height), int(width)],
                          ("Data", "Slice"))


def param_layer_names(proto):
    """Names of the layers of ``proto`` that own parameter blobs, in order."""
    return [layer.name for layer in proto.layer
            if layer.type in ("Convolution", "InnerProduct", "Deconvolution", "Scale",
                              "BatchNorm", "Bias", "PReLU", "Embed")]


def new_layers(backbone, dataset=None, *, racnn=False, sr_init="g", aux_heads=False,
               last_layer=None, num_classes=2):
    """Layers that are expected to stay new (filler-initialised) when the net
    is initialised from the ImageNet caffemodel (plus, for p-RACNN, the SR
    weights): the new last layer(s), the SR layers of g-RACNN, and every
    layer of ``tiny`` (which has no ImageNet weights)."""
    bname = vocab.backbone_spec(backbone).name
    proto = build_net(bname, num_classes, dataset=dataset, racnn=racnn, sr_init=sr_init,
                      phase="train_val", aux_heads=aux_heads, last_layer=last_layer,
                      train_source="unused", test_source="unused")
    names = param_layer_names(proto)
    if bname == "tiny":
        new = [name for name in names if name not in SR_NAMES]
    else:
        last = last_layer or last_layer_name(bname, dataset)
        new = [name for name in names if name == last or
               (aux_heads and name == BACKBONE_MODULES["googlenet"].aux_classifier_name(name.split("/")[0], last))]
    if racnn and sr_init == "g":
        new = list(SR_NAMES) + new
    return tuple(new)


def write_net(proto, path, header=()):
    """Atomically write ``proto`` as text to ``path`` with a header comment."""
    return write_prototxt(path, proto, header)

