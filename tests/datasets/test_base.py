"""racnn.datasets.base: ``load(format, root, split)`` and its errors."""
import pytest

from racnn import datasets
from racnn.errors import RacnnError


def test_unknown_format_and_missing_root(tmp_path):
    with pytest.raises(RacnnError, match="unknown dataset format"):
        datasets.load("imagenet", str(tmp_path), "train")
    with pytest.raises(RacnnError, match="does not exist"):
        datasets.load("cub", str(tmp_path / "nope"), "train")
