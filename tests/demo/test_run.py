"""racnn.demo.run: the demo's per-class table renders its bold mean in
Markdown (a friction a new user hit: issue 15, item 11)."""
import csv
import os
import re

from racnn.demo import run as demo


def test_per_class_markdown_bold_has_no_inner_space(tmp_path):
    record = {"results": {}}
    for name, accs in (("cnn", (0.25, 0.5)), ("racnn_g", (1.0, None))):
        d = tmp_path / name / "eval"
        os.makedirs(str(d))
        with open(str(d / "per_class.csv"), "w") as fh:
            w = csv.writer(fh)
            w.writerow(["class", "name", "images", "correct", "accuracy"])
            for cls, acc in enumerate(accs):
                w.writerow([cls, "c%d" % cls, 4, 0, "" if acc is None else acc])
        record["results"][name] = {"eval_dir": str(d), "mean_class_accuracy": accs[0]}
    md, path = demo.per_class_table(str(tmp_path), record)
    last = md.splitlines()[-1]
    assert last.startswith("| **mean class accuracy** | ")
    assert last.endswith(" | **25.0** | **100.0** |")
    assert not re.search(r"\*\*\s+\d", md)          # "** 25.0**" is not bold in Markdown
    assert "|  25.0 |" in md.splitlines()[2] and "n/a" in md.splitlines()[3]
    assert open(path).read() == md
