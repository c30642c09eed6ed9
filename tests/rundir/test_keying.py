"""racnn.rundir.keying: only runs whose every setting matches a table's
definition fill its cells (issue 12); the others are listed with what kept
them out, and two matching runs of one cell are both shown."""
import csv

from racnn.rundir import keying
from racnn.report import cells as report_cells, markdown, write


# ------------------------------------------- keyed by every setting (issue 12)
def _record(run, variant="racnn_p", ours=50.0, evaluated=1.0, **settings):
    r = dict(dataset="birds", backbone="alexnet", variant=variant, res=50, mode="frozen",
             mults="paper", sr_weights="pretrain", smoke=False, ours=ours, overall=ours,
             num_images=10, iteration=100, run=run, config=None, log=None, model=None,
             eval=None, evaluated=evaluated, kernel="matlab", backbone_weights="imagenet",
             db_size=227, schedule="full", custom=False)
    r.update(settings)
    return r


def test_only_runs_of_the_tables_settings_fill_cells():
    """A run without ImageNet weights, with the release's multipliers, another
    kernel, a cut schedule or a bigger stored size is never placed in a
    paper cell; each is listed with what kept it out."""
    good = _record("/r/good", ours=52.0)
    bad = [_record("/r/bw", backbone_weights="none", ours=10.0, evaluated=9),
           _record("/r/mults", mults="release", ours=11.0, evaluated=9),
           _record("/r/kernel", kernel="opencv", ours=12.0, evaluated=9),
           _record("/r/iters", schedule="iters=4", ours=13.0, evaluated=9),
           _record("/r/size", db_size=256, ours=14.0, evaluated=9),
           _record("/r/auth", sr_weights="authors", ours=15.0, evaluated=9),
           _record("/r/jpeg", jpeg_quality=75, ours=16.0, evaluated=9)]
    cells, used = report_cells.paper_rows([good] + bad)
    filled = [c for c in cells if c["ours"] is not None]
    assert {(c["table"], c["ours"]) for c in filled} == {("Table II", 52.0), ("Table III", 52.0)}
    assert all(c["also"] == [] for c in filled)
    others = report_cells.other_rows([good] + bad, used)
    assert [o["run"] for o in others] == [b["run"] for b in bad]
    why = {o["run"]: report_cells.not_placed(o) for o in others}
    assert why == {"/r/bw": "backbone weights none (tables: ImageNet)",
                   "/r/mults": "mults release (tables: paper)",
                   "/r/kernel": "kernel opencv (tables: matlab)",
                   "/r/iters": "schedule iters=4 (tables: the release's)",
                   "/r/size": "db_size 256 (tables: 227)",
                   "/r/auth": "sr_weights authors (tables: pretrain)",
                   "/r/jpeg": "images through JPEG q75 (tables: raw pixels)"}
    # a CNN's cell does not depend on p-RACNN's SR weights
    cnn = _record("/r/auth", variant="cnn", sr_weights="authors", ours=40.0)
    cells, used = report_cells.paper_rows([cnn])
    assert [c["ours"] for c in cells if c["variant"] == "cnn" and c["table"] == "Table II"
            and c["dataset"] == "birds" and c["backbone"] == "alexnet"] == [40.0]
    # another reading fills the tables with the release's multipliers instead
    cells, used = report_cells.paper_rows([good] + bad, keying.reading(mults="release"))
    assert {c["ours"] for c in cells if c["ours"] is not None} == {11.0}
    text = markdown.paper_tables(cells, report_cells.other_rows([good] + bad, used), "/r",
                           reading=keying.reading(mults="release"))
    assert "Filled only by runs with multipliers `release`, p-RACNN SR weights `pretrain`, " \
        "g-RACNN's SR layers from the pre-trained SR weights (the release's notebooks), " \
        "kernel `matlab`, ImageNet backbone weights" in text
    assert "stage 2 of the released notebooks' 1,000,000 iterations" in text
    assert text.count("Filled only by runs with") == 3               # each table says it


def test_two_matching_runs_of_one_cell_are_both_shown(tmp_path):
    older, newer = _record("/r/a", ours=50.0, evaluated=1), _record("/r/b", ours=53.0,
                                                                    evaluated=2)
    cells, used = report_cells.paper_rows([older, newer])
    cell = [c for c in cells if c["table"] == "Table II" and c["variant"] == "racnn_p"
            and c["dataset"] == "birds" and c["backbone"] == "alexnet"][0]
    assert (cell["ours"], cell["run"], cell["runs"]) == (53.0, "/r/b", 2)
    assert [(a["ours"], a["run"]) for a in cell["also"]] == [(50.0, "/r/a")]
    assert report_cells.other_rows([older, newer], used) == []
    text = markdown.paper_tables(cells, [], "/r")
    row = [l for l in text.splitlines() if l.startswith("| p-RACNN AlexNet |")][0]
    assert "| 51.23 | 53.00 / 50.00 | +1.77 / -1.23 |" in row
    path = write.write_csv(cells, [], str(tmp_path / "r.csv"))
    with open(path) as fh:
        rows = [x for x in csv.DictReader(fh) if x["table"] == "Table II"
                and x["variant"] == "racnn_p" and x["dataset"] == "birds"
                and x["backbone"] == "alexnet"]
    assert [(x["ours"], x["run"], x["runs"]) for x in rows] == [
        ("53.0000", "/r/b", "2"), ("50.0000", "/r/a", "2")]
    assert rows[0]["backbone_weights"] == "imagenet" and rows[0]["schedule"] == "full"


# ------------------------------------------ stage 1's images, said in every cell
def test_stage1_images_are_keyed_and_said_in_every_pretrained_cell():
    """A p-RACNN cell filled from SR pre-training on the target dataset's own
    training images said nothing of it; the paper's point is SR knowledge
    from other images (ILSVRC DET).  Each record now carries stage 1's
    images (the shared stage-1 model's record when there is one, else the
    configuration's sr_images / sr_max_images) and every cell with
    pre-trained SR layers shows them."""
    from racnn.rundir import settings
    own = settings.make_config("birds", "alexnet", mode="frozen")
    f = keying.fields(own, "racnn_p")
    assert (f["sr_start"], f["sr_images"], f["sr_max_images"]) == ("pretrained", None, 500)
    assert keying.sr_label(dict(f, variant="racnn_p")) == "SR: own training images x500"
    det = settings.make_config("birds", "alexnet", mode="frozen", sr_images="/data/DET",
                               sr_max_images="all")
    assert keying.sr_label(dict(keying.fields(det, "racnn_p"))) == "SR: DET xall"
    shared = dict(own, stages={"stage1_sr": {"shared_model": {"sr_images": "/x/ILSVRC_DET"}}})
    assert keying.fields(shared, "racnn_p")["sr_images"] == "ILSVRC_DET"
    assert keying.sr_label(keying.fields(own, "racnn_g")) is None      # fillers (paper reading)
    assert keying.sr_label(keying.fields(dict(own, sr_weights="authors"), "racnn_p")) == \
        "SR: the authors' weights"
    cells, _ = report_cells.paper_rows([_record("/r/own", **keying.fields(own, "racnn_p")),
                                        _record("/r/det", variant="racnn_p", ours=53.0,
                                                evaluated=2, **keying.fields(det, "racnn_p"))])
    for c in cells:
        c.update(sr_label=keying.sr_label(c))
        for a in c.get("also") or ():
            a.update(sr_label=keying.sr_label(a))
    text = markdown.paper_tables(cells, [], "/r")
    row = [l for l in text.splitlines() if l.startswith("| p-RACNN AlexNet | 47.90")][0]
    assert "53.00 (SR: DET xall) / 50.00 (SR: own training images x500)" in row


def test_the_release_reading_keys_g_racnn_start_and_stage_2_length():
    """Table II under the release reading takes g-RACNN started from the SR
    weights and stage 2 of the notebooks' 1M iterations; a run of the other
    start or length is listed apart, saying which."""
    from racnn.rundir import settings
    release = keying.reading(mults="release")
    assert (release["g_sr_init"], release["stage2_length"]) == ("pretrained", "notebooks")
    assert keying.reading(mults="release", g_sr_init="gaussian")["g_sr_init"] == "gaussian"
    cfg = settings.make_config("birds", "alexnet", mode="frozen", mults="release")
    good = _record("/r/g", variant="racnn_g", mults="release", **keying.fields(cfg, "racnn_g"))
    gauss = _record("/r/gg", variant="racnn_g", mults="release", evaluated=2, **keying.fields(
        dict(cfg, g_sr_init="gaussian"), "racnn_g"))
    short = _record("/r/s", variant="racnn_g", mults="release", evaluated=3, **keying.fields(
        dict(cfg, stage2_length="solver"), "racnn_g"))
    cells, used = report_cells.paper_rows([good, gauss, short], release)
    assert [c["run"] for c in cells if c["ours"] is not None] == ["/r/g", "/r/g"]
    assert {r["run"]: report_cells.not_placed(r, release)
            for r in report_cells.other_rows([good, gauss, short], used)} == {
        "/r/gg": "g_sr_init gaussian (tables: pretrained)",
        "/r/s": "stage2_length solver (tables: notebooks)"}
