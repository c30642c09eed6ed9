"""tools/make_nets.py (regeneration changes nothing, --check catches edits,
custom datasets into any folder) and tools/draw_net.py (`make draw`)."""
import os
import subprocess
import sys

import caffe
import pytest

from racnn.nets import generate
from racnn.nets.dummy import instantiate
from racnn.protoio import read_net

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
caffe.set_mode_cpu()


def tool(*args):
    return subprocess.run([sys.executable] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


# That prototxt/ and solvers/ match the generators is `make check-generated`
# (CI runs it before the suite): a user's edit of a committed net must not
# fail `make test` (issue 15, item 3).

def test_check_message_explains_both_cases(tmp_path):
    root = str(tmp_path)
    files = generate.committed_files(root)
    generate.write_files(files)
    ok = tool("tools/make_nets.py", "--check", "--root", root)
    assert ok.returncode == 0 and "up to date" in ok.stdout, ok.stdout + ok.stderr
    edited = os.path.join(root, "prototxt", "alexnet", "birds", "racnn_g_e2e_paper_train_val.prototxt")
    assert "runs train this file as it is" in open(edited).read()
    with open(edited, "a") as fh:
        fh.write("# hand edit\n")
    run = tool("tools/make_nets.py", "--check", "--root", root)
    assert run.returncode == 1
    assert run.stdout == "prototxt/alexnet/birds/racnn_g_e2e_paper_train_val.prototxt (differs)\n"
    assert "1 committed files differ from the generators" in run.stderr
    assert "`make prototxts` was not run" in run.stderr
    assert "you edited a net or solver on purpose: runs train the edited files" in run.stderr


def test_committed_deploy_nets_are_derived_from_the_train_val_nets():
    """Each committed deploy net is what a run derives from any of the
    train_val nets of its backbone, dataset and kind (CNN / RACNN): the
    variant's mode and multipliers live only in param blocks."""
    from racnn.nets.build import deploy_from_train_val
    from racnn.protoio import proto_text
    from google.protobuf import text_format
    from caffe.proto import caffe_pb2
    files = generate.committed_files("/r")
    checked = 0
    for path, text in files.items():
        if not path.endswith("_train_val.prototxt") or "/sr/" in path:
            continue
        kind = "cnn" if os.path.basename(path).startswith("cnn_") else "racnn"
        deploy = files[os.path.join(os.path.dirname(path), kind + "_deploy.prototxt")]
        net = text_format.Merge(text, caffe_pb2.NetParameter())
        body = "".join(line for line in deploy.splitlines(True) if not line.startswith("#"))
        assert proto_text(deploy_from_train_val(net)) == body, path
        checked += 1
    assert checked == 3 * 3 * 12
    from racnn.nets import build_sr_deploy          # stage 1's SR-only net likewise
    sr = files["/r/prototxt/sr/sr_deploy.prototxt"]
    assert "".join(l for l in sr.splitlines(True) if not l.startswith("#")) == \
        proto_text(build_sr_deploy())


def test_check_reports_edited_missing_and_extra_files(tmp_path):
    root = str(tmp_path)
    files = generate.committed_files(root)
    assert len(generate.write_files(files)) == len(files) == 239
    assert generate.check(root) == []
    assert generate.write_files(files) == []                  # nothing rewritten
    edited = sorted(files)[0]
    with open(edited, "a") as fh:
        fh.write("# hand edit\n")
    missing = sorted(files)[-1]
    os.unlink(missing)
    extra = os.path.join(root, "prototxt", "alexnet", "cars", "old.prototxt")
    open(extra, "w").close()
    assert sorted(generate.check(root)) == sorted([edited + " (differs)", missing + " (missing)",
                                                   extra + " (not generated)"])


def test_custom_dataset_into_any_folder(tmp_path):
    out = str(tmp_path / "nets")
    run = tool("tools/make_nets.py", "--backbone", "tiny", "--num-classes", "5", "--name", "shapes",
               "--train-lmdb", "/data/shapes/train", "--test-lmdb", "/data/shapes/test",
               "--out", out, "--variants", "cnn,racnn_p", "--modes", "e2e", "--mults", "paper",
               "--sr-lmdb", "/data/sr", "--max-iter", "50", "--test-iter", "3")
    assert run.returncode == 0, run.stderr
    assert sorted(os.listdir(out)) == sorted([
        "cnn_deploy.prototxt", "racnn_deploy.prototxt", "snapshots",
        "cnn_e2e_paper_train_val.prototxt", "cnn_e2e_paper_solver.prototxt",
        "racnn_p_e2e_paper_train_val.prototxt", "racnn_p_e2e_paper_solver.prototxt",
        "sr_pretrain_paper.prototxt", "sr_pretrain_paper_solver.prototxt"])
    net = read_net(os.path.join(out, "racnn_p_e2e_paper_train_val.prototxt"))
    assert net.layer[0].data_param.source == "/data/shapes/train"
    assert net.layer[1].data_param.source == "/data/shapes/test"
    assert [l.name for l in net.layer if l.name.startswith("fc7")] == ["fc7_shapes"]
    solver = open(os.path.join(out, "racnn_p_e2e_paper_solver.prototxt")).read()
    assert "max_iter: 50" in solver and "test_iter: 3" in solver
    assert 'net: "%s"' % os.path.join(out, "racnn_p_e2e_paper_train_val.prototxt") in solver
    test = instantiate(net, caffe.TEST, batch_size=2)
    assert test.blobs["fc7_shapes"].data.shape == (2, 5)
    bad = tool("tools/make_nets.py", "--backbone", "tiny", "--num-classes", "5")
    assert bad.returncode == 2 and "needs all of" in bad.stderr


def test_draw_net_writes_a_png(tmp_path):
    """The command of `make draw` (into a temporary file)."""
    out = str(tmp_path / "racnn_alexnet.png")
    run = tool("tools/draw_net.py", "prototxt/alexnet/cars/racnn_deploy.prototxt", out)
    assert run.returncode == 0, run.stderr
    with open(out, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(out) > 10000
    # make draw (docs/racnn_alexnet.png): one column, readable at a README's width
    run = tool("tools/draw_net.py", "--rankdir", "TB", "--fold-inplace",
               "prototxt/alexnet/cars/racnn_deploy.prototxt", out)
    assert run.returncode == 0, run.stderr
    from tests._pictures import check_png
    h, w, _ = check_png(out, 300, 1000).shape
    assert w <= 1000 and h > 2 * w, (w, h)
    bad = tool("tools/draw_net.py", "no/such.prototxt", out)
    assert bad.returncode == 2 and "no/such.prototxt" in bad.stderr


@pytest.mark.parametrize("script", ["make_nets.py", "init_weights.py", "draw_net.py"])
def test_tools_have_help(script):
    run = tool(os.path.join("tools", script), "--help")
    assert run.returncode == 0 and "usage:" in run.stdout


def _make_n(*args, **env):
    e = {k: v for k, v in os.environ.items() if k != "CI"}
    e.update(env)
    run = subprocess.run(["make", "-n"] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, env=e)
    assert run.returncode == 0, run.stdout
    return run.stdout


def test_make_test_checks_the_generated_files_only_in_ci():
    """A user's edit of a committed net must not fail `make test`; CI
    (CI=true, as .ci/run runs) checks the committed tree first."""
    assert "tools/make_nets.py --check" not in _make_n("test")
    ci = _make_n("test", CI="true").splitlines()
    assert "tools/make_nets.py --check" in ci[0] and "pytest" in ci[-1]
    assert "tools/make_nets.py --check" in _make_n("check-generated")


def test_make_experiment_variables_for_weights_nets_and_restart():
    out = _make_n("birds-alexnet", "BACKBONE_WEIGHTS=none", "NETS=mynets/", "RESTART=racnn_g")
    assert "tools/experiment.py birds alexnet" in out
    assert "--set backbone_weights=none --set nets=mynets/ --restart racnn_g" in \
        " ".join(out.split())
