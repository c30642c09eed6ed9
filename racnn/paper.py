"""Every number the paper reports (Cai et al., RACNN; summarised in
docs/METHOD.md), as data in one place: the results tables and the timing
compare against these and nothing else.

Keys: dataset names and backbones as in racnn.vocab; ``variant`` as the
stage folders of a run (``cnn``, ``racnn_g``, ``racnn_p``; ``staged`` for
Fig. 4's "Staged-Training AlexNet"); accuracies in percent (mean per-class
accuracy); times in seconds per epoch on one GTX-980.  Fig. 4's AlexNet and
Staged-Training numbers are not the authors' runs but those of the paper's
reference [35] (``FIG_4_FROM_REF35``).
"""
import collections

from .vocab import VARIANTS, backbone_spec

#: Fig. 4's row of RACNN, whichever initialisation (FIG_4_RACNN_VARIANTS)
RACNN_TITLE = "RACNN-%s"

#: Table II: 50x50, frozen classifier; {(backbone, variant): {dataset: %}}
TABLE_II = collections.OrderedDict([
    (("alexnet", "cnn"), {"cars": 43.75, "birds": 44.99, "flowers": 70.03}),
    (("alexnet", "racnn_g"), {"cars": 45.77, "birds": 47.17, "flowers": 71.91}),
    (("alexnet", "racnn_p"), {"cars": 47.90, "birds": 51.23, "flowers": 74.24}),
    (("vgg16", "cnn"), {"cars": 41.49, "birds": 43.46, "flowers": 67.82}),
    (("vgg16", "racnn_g"), {"cars": 42.86, "birds": 44.72, "flowers": 68.03}),
    (("vgg16", "racnn_p"), {"cars": 44.65, "birds": 49.33, "flowers": 69.17}),
    (("googlenet", "cnn"), {"cars": 46.85, "birds": 48.52, "flowers": 69.28}),
    (("googlenet", "racnn_g"), {"cars": 50.37, "birds": 55.16, "flowers": 69.77}),
    (("googlenet", "racnn_p"), {"cars": 50.76, "birds": 57.30, "flowers": 73.51}),
])
TABLE_II_SETTING = {"res": 50, "mode": "frozen"}

#: Table III: Birds, AlexNet, frozen; {variant: {res: %}}
TABLE_III = collections.OrderedDict([
    ("cnn", {25: 31.58, 50: 44.99, 100: 51.01}),
    ("racnn_g", {25: 43.68, 50: 47.17, 100: 51.24}),
    ("racnn_p", {25: 45.06, 50: 51.23, 100: 52.88}),
])
TABLE_III_SETTING = {"dataset": "birds", "backbone": "alexnet", "mode": "frozen"}

#: Fig. 4: 50x50, end to end, AlexNet; {variant: {dataset: %}}.  The figure's
#: "RACNN-AlexNet" does not say which initialisation; rows match p-RACNN
#: first, then g-RACNN (the report names the one it used).
FIG_4 = collections.OrderedDict([
    ("cnn", {"cars": 50.4, "birds": 51.3}),
    ("staged", {"cars": 59.5, "birds": 55.3}),
    ("racnn", {"cars": 63.8, "birds": 58.1}),
])
FIG_4_SETTING = {"res": 50, "mode": "e2e", "backbone": "alexnet"}
#: where Fig. 4's two baselines come from: the paper takes the AlexNet (cnn)
#: and Staged-Training numbers from its reference [35] ("fine-to-coarse"
#: knowledge transfer), measured with that work's protocol; only the RACNN row
#: is the authors' own run
FIG_4_FROM_REF35 = ("cnn", "staged")
FIG_4_SOURCE = ("the paper's AlexNet and Staged-Training numbers are those of its "
                "reference [35] (its protocol), not the authors' own runs")
FIG_4_RACNN_VARIANTS = ("racnn_p", "racnn_g")

#: Table I: training seconds per epoch on one GTX-980; {(backbone, racnn): {dataset: s}}
TABLE_I = collections.OrderedDict([
    (("alexnet", False), {"cars": 11, "birds": 8, "flowers": 3}),
    (("alexnet", True), {"cars": 111, "birds": 80, "flowers": 25}),
    (("vgg16", False), {"cars": 133, "birds": 82, "flowers": 34}),
    (("vgg16", True), {"cars": 356, "birds": 215, "flowers": 90}),
    (("googlenet", False), {"cars": 20, "birds": 25, "flowers": 8}),
    (("googlenet", True), {"cars": 136, "birds": 120, "flowers": 59}),
])


def title(backbone, variant):
    """Row title in the paper's words, e.g. ``p-RACNN AlexNet``."""
    fmt = VARIANTS[variant].title if variant in VARIANTS else (
        RACNN_TITLE if variant == "racnn" else variant + " %s")
    return fmt % backbone_spec(backbone).title


def table_i_ratio(backbone, dataset):
    """The paper's RACNN/CNN training-time ratio."""
    return TABLE_I[(backbone, True)][dataset] / float(TABLE_I[(backbone, False)][dataset])
