"""GoogLeNet with the layer names and shapes of the model zoo's
``bvlc_googlenet`` (models/bvlc_googlenet/deploy.prototxt and, for the
auxiliary heads, train_val.prototxt), so its ImageNet caffemodel loads by
name; input 224x224 (pool5/7x7_s1 needs a 7x7 map).

The paper uses only the deepest output (``loss3``).  The two auxiliary heads
(``loss1/*`` after inception_4a, ``loss2/*`` after inception_4d, loss weight
0.3 each in BVLC's training) are left out by default; ``aux_heads=True``
keeps them, with their own new dataset-specific classifiers."""
from caffe import layers as L

from .layers import ave_pool, constant, conv, dropout, fc, lrn, max_pool, relu, xavier

LAST = "loss3/classifier"
#: inception module -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
INCEPTION = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    ("pool3/3x3_s2", None),
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    ("pool4/3x3_s2", None),
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)
#: auxiliary heads: (prefix, inception output they branch from)
AUX = (("loss1", "inception_4a/output"), ("loss2", "inception_4d/output"))
AUX_LOSS_WEIGHT = 0.3


def _conv(n, name, bottom, num_output, kernel, bb, stride=1, pad=0):
    return conv(n, name, bottom, num_output, kernel, stride=stride, pad=pad, param=bb,
                weight_filler=xavier(), bias_filler=constant(0.2))


def _inception(n, name, bottom, widths, bb):
    p = "inception_%s/" % name
    n1, n3r, n3, n5r, n5, npool = widths
    b1 = relu(n, p + "relu_1x1", _conv(n, p + "1x1", bottom, n1, 1, bb))
    b3 = relu(n, p + "relu_3x3_reduce", _conv(n, p + "3x3_reduce", bottom, n3r, 1, bb))
    b3 = relu(n, p + "relu_3x3", _conv(n, p + "3x3", b3, n3, 3, bb, pad=1))
    b5 = relu(n, p + "relu_5x5_reduce", _conv(n, p + "5x5_reduce", bottom, n5r, 1, bb))
    b5 = relu(n, p + "relu_5x5", _conv(n, p + "5x5", b5, n5, 5, bb, pad=2))
    bp = max_pool(n, p + "pool", bottom, 3, 1, pad=1)
    bp = relu(n, p + "relu_pool_proj", _conv(n, p + "pool_proj", bp, npool, 1, bb))
    n[p + "output"] = L.Concat(b1, b3, b5, bp)
    return n[p + "output"]


def aux_classifier_name(prefix, last_name):
    """Name of an auxiliary head's new classifier: ``loss1/classifier_cars``
    for ``loss3/classifier_cars``."""
    if last_name.startswith("loss3/"):
        return prefix + "/" + last_name[len("loss3/"):]
    return prefix + "/" + last_name


def _aux_head(n, prefix, bottom, num_classes, last_name, params):
    bb = params("backbone")
    x = ave_pool(n, prefix + "/ave_pool", bottom, 5, 3)
    x = relu(n, prefix + "/relu_conv", _conv(n, prefix + "/conv", x, 128, 1, bb))
    x = fc(n, prefix + "/fc", x, 1024, param=bb, weight_filler=xavier(), bias_filler=constant(0.2))
    x = relu(n, prefix + "/relu_fc", x)
    x = dropout(n, prefix + "/drop_fc", x, 0.7)
    return fc(n, aux_classifier_name(prefix, last_name), x, num_classes, param=params("last"),
              weight_filler=xavier(), bias_filler=constant(0))


def build(n, bottom, num_classes, last_name, params, aux_heads=False):
    """Add GoogLeNet on top of ``bottom``; return (logits top, aux) where aux
    lists (loss name, logits top, loss weight) of the kept auxiliary heads."""
    bb = params("backbone")
    x = relu(n, "conv1/relu_7x7", _conv(n, "conv1/7x7_s2", bottom, 64, 7, bb, stride=2, pad=3))
    x = max_pool(n, "pool1/3x3_s2", x, 3, 2)
    x = lrn(n, "pool1/norm1", x)
    x = relu(n, "conv2/relu_3x3_reduce", _conv(n, "conv2/3x3_reduce", x, 64, 1, bb))
    x = relu(n, "conv2/relu_3x3", _conv(n, "conv2/3x3", x, 192, 3, bb, pad=1))
    x = lrn(n, "conv2/norm2", x)
    x = max_pool(n, "pool2/3x3_s2", x, 3, 2)
    aux = []
    for name, widths in INCEPTION:
        if widths is None:
            x = max_pool(n, name, x, 3, 2)
            continue
        x = _inception(n, name, x, widths, bb)
        for prefix, source in AUX:
            if aux_heads and source == "inception_%s/output" % name:
                logits = _aux_head(n, prefix, x, num_classes, last_name, params)
                aux.append((prefix + "/loss", logits, AUX_LOSS_WEIGHT))
    x = ave_pool(n, "pool5/7x7_s1", x, 7, 1)
    x = dropout(n, "pool5/drop_7x7_s1", x, 0.4)
    logits = fc(n, last_name, x, num_classes, param=params("last"),
                weight_filler=xavier(), bias_filler=constant(0))
    return logits, aux
