"""The SR front's multipliers as docs/METHOD.md gives them ("Multipliers: two
readings"), written here rather than read from racnn.nets.presets, and
small readers of a NetParameter's layers."""

# ((weight lr, weight decay), (bias lr, bias decay)); Caffe's default decay is 1.
PAPER_SR = {"sconv1": ((1, 0.1), (1, 0.1)), "sconv2": ((1, 0.1), (1, 0.1)),
            "sconv3": ((0.1, 0.1), (0.1, 0.1))}
RELEASE_SR = {
    "g": {"sconv1": ((1, 1), (0.1, 1)), "sconv2": ((1, 1), (0.1, 1)),
          "sconv3": ((0.1, 1), (0.1, 1))},
    "p": {"sconv1": ((0.1, 1), (0.1, 1)), "sconv2": ((0.1, 1), (0.1, 1)),
          "sconv3": ((0.1, 1), (0.1, 1))},
}


def layers(proto):
    """{layer name: LayerParameter} of a NetParameter."""
    return {layer.name: layer for layer in proto.layer}


def pairs(layer):
    """The layer's (lr_mult, decay_mult) per parameter blob."""
    return tuple((p.lr_mult, p.decay_mult) for p in layer.param)


def close(a, b):
    """Two tuples of (lr_mult, decay_mult) pairs are equal (floats, 1e-6)."""
    return all(abs(x - y) < 1e-6 for pa, pb in zip(a, b) for x, y in zip(pa, pb)) and len(a) == len(b)
