"""Seeded, bit-identical reruns: every random choice follows the run's seed,
so a second SMOKE demo in other folders gives the same initial weights,
scores and metrics as the session's shared one (both runs:
tests/workflows/conftest.py; the seeded fillers themselves:
tests/test_weights.py)."""
import json

from tests.support.workflows import load

STAGES = ("backbone_hr", "stage1_sr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")
EVALUATED = ("backbone_hr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")


def test_two_identical_runs_agree_exactly(smoke, second_smoke):
    """Every random choice follows the run's seed: a second smoke demo in other
    folders gives the same initial weights, scores and metrics (apart from the
    paths and the evaluation's timing)."""
    first, run, _, _ = smoke
    again = second_smoke
    other = again / "runs" / run.name
    for name in STAGES:
        init = run / name / "init.caffemodel"
        if init.is_file():          # the new layers' fillers, seeded
            assert init.read_bytes() == (other / name / "init.caffemodel").read_bytes(), name
    for name in EVALUATED:
        a, b = run / name / "eval", other / name / "eval"
        assert (a / "scores.npy").read_bytes() == (b / "scores.npy").read_bytes(), name
        # the same file but for the two folders' names and the evaluation's clock
        ma = json.loads((a / "metrics.json").read_text().replace(str(first), "TMP"))
        mb = json.loads((b / "metrics.json").read_text().replace(str(again), "TMP"))
        for clock in ("seconds", "images_per_second"):
            assert ma.pop(clock) > 0 and mb.pop(clock) > 0
        assert ma == mb, name
        assert ma["mean_class_accuracy"] == load(a / "metrics.json")["mean_class_accuracy"]
