"""Small NetSpec helpers shared by the backbone builders: each adds one
explicitly named layer to a ``caffe.NetSpec`` and returns its top.

NetSpec names a layer after the key it is stored under (``n[name] = ...``);
in-place layers (ReLU, Dropout) get their own key and write into their
bottom's blob, exactly like the BVLC model zoo prototxts.  ``params`` is a
role-to-``param``-blocks callable (see build.py) or None for no blocks.
"""
from caffe import layers as L
from caffe import params as P


def gaussian(std):
    return dict(type="gaussian", std=std)


def constant(value=0):
    return dict(type="constant", value=value)


def xavier():
    return dict(type="xavier")


def _set(kw, **optional):
    """``kw`` plus the optional entries that are set (in their order): a
    parameter at Caffe's default is not written."""
    kw.update((k, v) for k, v in optional.items() if v)
    return kw


def conv(n, name, bottom, num_output, kernel, stride=1, pad=0, group=1,
         param=None, weight_filler=None, bias_filler=None):
    """Convolution; stride/pad/group written only when not Caffe's default."""
    n[name] = L.Convolution(bottom, **_set(
        dict(num_output=num_output, kernel_size=kernel), pad=pad,
        stride=stride if stride != 1 else None, group=group if group != 1 else None,
        weight_filler=weight_filler, bias_filler=bias_filler, param=param))
    return n[name]


def fc(n, name, bottom, num_output, param=None, weight_filler=None, bias_filler=None):
    """InnerProduct."""
    n[name] = L.InnerProduct(bottom, **_set(
        dict(num_output=num_output), weight_filler=weight_filler, bias_filler=bias_filler,
        param=param))
    return n[name]


def relu(n, name, bottom):
    """In-place ReLU."""
    n[name] = L.ReLU(bottom, in_place=True)
    return n[name]


def dropout(n, name, bottom, ratio):
    """In-place Dropout."""
    n[name] = L.Dropout(bottom, dropout_ratio=ratio, in_place=True)
    return n[name]


def max_pool(n, name, bottom, kernel, stride, pad=0):
    kw = dict(pool=P.Pooling.MAX, kernel_size=kernel, stride=stride)
    if pad:
        kw["pad"] = pad
    n[name] = L.Pooling(bottom, **kw)
    return n[name]


def ave_pool(n, name, bottom, kernel, stride):
    n[name] = L.Pooling(bottom, pool=P.Pooling.AVE, kernel_size=kernel, stride=stride)
    return n[name]


def lrn(n, name, bottom):
    """Local response normalisation as in AlexNet and GoogLeNet."""
    n[name] = L.LRN(bottom, local_size=5, alpha=0.0001, beta=0.75)
    return n[name]


def fc_head(n, bottom, num_classes, last_name, params):
    """The BVLC AlexNet / VGG-16 classifier head: fc6 and fc7 (4096, ReLU,
    dropout 0.5, the zoo's fillers) with the backbone's multipliers, then the
    new last layer with the "last" multipliers; returns the logits."""
    bb = params("backbone")
    x = bottom
    for i in (6, 7):
        x = fc(n, "fc%d" % i, x, 4096, param=bb, weight_filler=gaussian(0.005),
               bias_filler=constant(0.1))
        x = relu(n, "relu%d" % i, x)
        x = dropout(n, "drop%d" % i, x, 0.5)
    return fc(n, last_name, x, num_classes, param=params("last"),
              weight_filler=gaussian(0.01), bias_filler=constant(0))
