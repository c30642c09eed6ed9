"""Learning-rate and weight-decay multipliers: every preset of the paper in
one place.

A preset maps a *role* to the two Caffe ``param`` blocks of a layer,
``((weight lr_mult, weight decay_mult), (bias lr_mult, bias decay_mult))``.
Roles:

* ``sconv1``, ``sconv2``, ``sconv3`` -- the SR front (docs/METHOD.md "The SR front");
* ``backbone`` -- every ImageNet-pretrained classification layer;
* ``last`` -- the new, dataset-specific last layer (and the new classifiers
  of GoogLeNet's auxiliary heads when those are kept).

Two readings of the paper exist (docs/METHOD.md, "Multipliers: two
readings"):

``paper``   the text's pairs are per-layer (lr_mult, decay_mult); we apply a
            pair to both blobs of the layer (weight and bias alike), which
            is the literal reading.
``release`` the pairs are Caffe's two param blocks (weight lr_mult, bias
            lr_mult), as in the authors' released prototxts.  Those files
            write no ``decay_mult`` for the SR layers, so Caffe's default 1
            applies; we write that 1 explicitly.

Modes: ``e2e`` (Sec. II-C, everything learns) and ``frozen`` (Table II, the
setting of the released prototxts: every backbone layer lr_mult 0 and
decay_mult 0, only the new last layer and the SR layers learn).

``sr_init`` (``g`` Gaussian, ``p`` pre-trained SR layers) matters only for
the release reading: the released g- and p-RACNN prototxts differ in their
SR multipliers, the paper's text does not distinguish them.
"""
from .. import vocab
from ..errors import RacnnError

#: the readings, modes and SR initialisations (racnn.vocab)
MULTS, MODES, SR_INITS = vocab.READINGS, vocab.MODES, vocab.SR_INITS
ROLES = ("sconv1", "sconv2", "sconv3", "backbone", "last")


def _same(lr, decay):
    """One (lr_mult, decay_mult) pair applied to both blobs of a layer."""
    return ((lr, decay), (lr, decay))


# --- the paper's text (Sec. II-C), literal reading ------------------------
PAPER_SR = {
    "sconv1": _same(1, 0.1),    # "sconv1, sconv2: learning rate 1, weight decay 0.1"
    "sconv2": _same(1, 0.1),
    "sconv3": _same(0.1, 0.1),  # "sconv3: both 0.1"
}
PAPER_BACKBONE_E2E = _same(0.1, 0)  # "all classification layers: learning rate 0.1, weight decay 0"
PAPER_LAST = _same(1, 1)            # "except the new last layer: both 1"

# --- the authors' released prototxts (dingdingcai/RACNN) -----------------
# g_RACNN_*.prototxt and RSRCNN_net.prototxt: sconv1/sconv2 param {lr_mult: 1}
# param {lr_mult: 0.1}; sconv3 0.1 / 0.1; no decay_mult written (Caffe default 1).
RELEASE_SR_G = {
    "sconv1": ((1, 1), (0.1, 1)),
    "sconv2": ((1, 1), (0.1, 1)),
    "sconv3": ((0.1, 1), (0.1, 1)),
}
# p_RACNN_*.prototxt: lr_mult 0.1 on both blobs of every SR layer.
RELEASE_SR_P = {
    "sconv1": ((0.1, 1), (0.1, 1)),
    "sconv2": ((0.1, 1), (0.1, 1)),
    "sconv3": ((0.1, 1), (0.1, 1)),
}
# The released classification layers of *all* files are frozen (Table II);
# the release has no end-to-end file, so end-to-end under the release reading
# applies that reading to the text's pair (0.1, 0): weight lr_mult 0.1, bias
# lr_mult 0, decay_mult left at Caffe's default 1 as the release does.
RELEASE_BACKBONE_E2E = ((0.1, 1), (0, 1))
# fc8_finetune in every released prototxt: the standard Caffe fine-tuning pair.
RELEASE_LAST = ((1, 1), (2, 0))

# --- both readings ---------------------------------------------------------
# Table II / released prototxts: "lr_mult 0 and decay_mult 0" on backbone layers.
FROZEN_BACKBONE = _same(0, 0)


def preset(mults="paper", mode="e2e", sr_init="g"):
    """The multiplier preset ``{role: ((w_lr, w_decay), (b_lr, b_decay))}``
    for a reading (``paper`` | ``release``), a training mode (``e2e`` |
    ``frozen``) and an SR initialisation (``g`` | ``p``)."""
    check(mults, mode, sr_init)
    if mults == "paper":
        out = dict(PAPER_SR)
        out["backbone"] = PAPER_BACKBONE_E2E
        out["last"] = PAPER_LAST
    else:
        out = dict(RELEASE_SR_G if sr_init == "g" else RELEASE_SR_P)
        out["backbone"] = RELEASE_BACKBONE_E2E
        out["last"] = RELEASE_LAST
    if mode == "frozen":
        out["backbone"] = FROZEN_BACKBONE
    return out


def sr_pretrain_preset(mults="release"):
    """Stage-1 (SR pre-training) multipliers: the release's RSRCNN_net.prototxt
    has the g-RACNN values (docs/METHOD.md); the paper reading uses the text's SR
    pairs."""
    check(mults, "e2e", "g")
    return dict(PAPER_SR if mults == "paper" else RELEASE_SR_G)


def check(mults, mode, sr_init):
    """Raise RacnnError for an unknown reading, mode or SR initialisation."""
    for value, valid, what in ((mults, MULTS, "multiplier reading (--mults)"),
                               (mode, MODES, "training mode (--mode)"),
                               (sr_init, SR_INITS, "SR initialisation (--sr-init)")):
        if value not in valid:
            raise RacnnError("unknown %s %r; valid: %s" % (what, value, ", ".join(valid)))


def param_blocks(pairs):
    """Caffe ``param`` blocks (NetSpec form) of a role's two pairs."""
    return [dict(lr_mult=lr, decay_mult=decay) for lr, decay in pairs]
