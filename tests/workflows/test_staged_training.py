"""Staged-Training (Fig. 4's competitor) through both stages on the CUB
fixture (the run: the session's ``staged_run`` fixture,
tests/workflows/conftest.py), the honest-schedule warning of a short run, and
the report of that run: final-model vs best in-solver accuracy and Fig. 5.
(Fig. 4's Staged-Training row: tests/report/test_cells.py.)"""
import pytest

from racnn.nets import DEFAULT_BATCH
from racnn.rundir import stage as stage_files
from racnn.rundir.stage import final_model
from racnn.report import collect, fig5, write
from tests.support.pictures import check_png
from tests.support.workflows import load


@pytest.mark.shared
def test_staged_trains_hr_then_lr_from_the_hr_model(staged_run):
    run, weights, out = staged_run
    cfg = load(run / "config.json")
    assert cfg["variants"] == ["cnn", "staged"]
    assert not (run / "stage1_sr").exists() and not (run / "racnn_g").exists()
    for name in ("cnn", "staged_hr", "staged"):
        done = stage_files.read_done(str(run / name))
        assert done and done["iteration"] == 6, name
        # the same schedule and nets as the CNN
        assert cfg["stages"][name]["max_iter"] == cfg["stages"]["cnn"]["max_iter"]
        assert (run / name / "deploy.prototxt").read_text() == \
            (run / "cnn" / "deploy.prototxt").read_text()

    def source_db(name, phase):
        text = (run / name / "train_val.prototxt").read_text()
        return load(text.split('source: "')[phase].split('"')[0] + "/manifest.json")
    hr, lr = source_db("staged_hr", 1), source_db("staged", 1)
    assert hr["res"] == hr["size"] == 72 and hr["count"] == 48      # undegraded images
    assert lr["res"] == 50 and lr["count"] == 48
    assert source_db("staged_hr", 2)["res"] == 72 and source_db("staged", 2)["res"] == 50

    def sources(name):
        return {(b["layer"], b["index"]): b["source"]
                for b in load(run / name / "init_audit.json")["blobs"]}
    first = sources("staged_hr")
    assert first[("conv1", 0)] == weights and first[("fc7_birds", 0)] == "new"
    hr_final = final_model(str(run / "staged_hr"))
    assert set(sources("staged").values()) == {hr_final}     # every blob, nothing new
    assert "--weights %s" % (run / "staged" / "init.caffemodel") in \
        (run / "staged" / "train.log").read_text()
    # evaluated: the HR stage on the HR test images, staged on the LR ones
    m_hr, m = load(run / "staged_hr" / "eval" / "metrics.json"), \
        load(run / "staged" / "eval" / "metrics.json")
    assert m["snapshot"] == final_model(str(run / "staged")) and m["num_images"] == 24
    assert m_hr["db"].endswith("test_r72_s72_matlab") and m["db"].endswith("test_r50_s72_matlab")
    assert "  staged   mean class accuracy %6.2f %%" % (100 * m["mean_class_accuracy"]) in out


@pytest.mark.shared
def test_short_schedule_is_said_once_and_recorded(staged_run):
    run, _, out = staged_run
    cfg = load(run / "config.json")
    assert out.count("warning: short schedule:") == 1
    assert "warning: short schedule: cnn trains 6 iterations where the release trains" in out
    log = (run / "experiment.log").read_text()
    assert log.count("warning: short schedule:") == 3          # cnn, staged_hr, staged
    for name in ("cnn", "staged_hr", "staged"):
        short = cfg["stages"][name]["short_schedule"]
        # the generated tiny solver: the release's 700k iterations of the
            # net's batch, counted in images, at the smoke batch of 8
        assert short == {"max_iter": 6, "base_lr": 1e-06,
                         "release_max_iter": 700000 * DEFAULT_BATCH["tiny"][0] // 8}
    assert "base_lr 1e-06" in cfg["schedule_note"]


@pytest.mark.shared
def test_report_marks_short_rows_and_gives_both_accuracies(staged_run, tmp_path):
    run, _, _ = staged_run
    results = collect.collect([str(run)])
    assert sorted(r["variant"] for r in results) == ["cnn", "staged"]
    for r in results:
        assert r["short_schedule"]
        acc, it = fig5.best_in_solver(r["log"])
        assert r["best_test"] == (100 * acc, it) and it in (3, 6)
    paths, _ = write.write_report([str(run)], str(tmp_path))
    text = (tmp_path / "report.md").read_text()
    staged = [r for r in results if r["variant"] == "staged"][0]
    row = [line for line in text.splitlines()
           if line.startswith("| %s (smoke) | Staged-Training" % run.name)]
    # the schedule names the short stage it starts from (the HR stage); no SR front
    assert row and "| %.2f (6) | %.2f (%d) | smoke (staged_hr) | - |" % (
        staged["ours"], staged["best_test"][0], staged["best_test"][1]) in row[0]
    assert str(tmp_path / "fig5_birds.png") in paths
    rows = (tmp_path / "fig5_birds.csv").read_text().splitlines()[1:]
    solver = fig5.solver_curve(staged["log"])
    assert len(solver) == 2 and ["birds,%s,staged,solver,%d,%.6f" % (run.name, it, a)
                                 for it, a in solver] == [r for r in rows if ",staged,solver," in r]
    assert "birds,%s,staged,final,6,%.6f" % (run.name, staged["ours"] / 100) in rows
    check_png(str(tmp_path / "fig5_birds.png"), 400, 250)
