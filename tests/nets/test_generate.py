"""racnn.nets.generate and tools/make_nets.py: the committed prototxt/ and
solvers/ (regeneration changes nothing, --check explains edits, deploy nets
derived from the train/val nets, custom datasets into any folder), `make
test` checks them only in CI, and the committed nets run in real Caffe (CPU):
forward and backward, `sum` keeps the input's shape, and every committed net
reduces to a structure that was run."""
import collections
import copy
import glob
import os

import caffe
import numpy as np
import pytest
from google.protobuf import text_format

from racnn.nets import generate, layout, param_layer_names
from racnn.nets.dummy import instantiate
from racnn.paths import REPO
from racnn.protoio import read_net
from tests.support.commands import make_n, python as tool

caffe.set_mode_cpu()


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


def test_make_test_checks_the_generated_files_only_in_ci():
    """A user's edit of a committed net must not fail `make test`; CI
    (CI=true, as .ci/run runs) checks the committed tree first."""
    assert "tools/make_nets.py --check" not in make_n("test")
    ci = make_n("test", CI="true").splitlines()
    assert "tools/make_nets.py --check" in ci[0] and "pytest" in ci[-1]
    assert "tools/make_nets.py --check" in make_n("check-generated")


# ------------------------------------------ the committed nets in Caffe

# (backbone, dataset, variant, mode, mults): one of each backward pattern per
# backbone -- CNN end-to-end (all layers learn), CNN frozen (only the last
# layer learns), RACNN (SR layers learn, so backward crosses the backbone).
RUNS = [("alexnet", "cars", "cnn", "e2e", "paper"), ("alexnet", "birds", "cnn", "frozen", "release"),
        ("alexnet", "flowers", "racnn_g", "frozen", "release"),
        ("googlenet", "birds", "cnn", "e2e", "release"), ("googlenet", "flowers", "cnn", "frozen", "paper"),
        ("googlenet", "cars", "racnn_p", "e2e", "paper"),
        ("vgg16", "flowers", "cnn", "e2e", "release"), ("vgg16", "cars", "cnn", "frozen", "paper"),
        ("vgg16", "birds", "racnn_p", "frozen", "release")]
SIZE = {"alexnet": 227, "vgg16": 224, "googlenet": 224}


def _last(proto):
    return param_layer_names(proto)[-1]


@pytest.mark.parametrize("run", RUNS, ids=["-".join(r) for r in RUNS])
def test_committed_train_val_runs_forward_backward(run):
    backbone, dataset, variant, mode, mults = run
    proto = read_net(layout.train_val_path(*run))
    net = instantiate(proto, caffe.TRAIN, batch_size=1)
    loss = net.forward()["loss"]
    net.backward()
    assert np.isfinite(loss) and loss > 0
    size = SIZE[backbone]
    assert net.blobs["data"].data.shape == (1, 3, size, size)
    last = _last(proto)
    assert net.blobs[last].data.shape == (1, {"cars": 196, "birds": 200, "flowers": 102}[dataset])
    assert np.any(net.params[last][0].diff != 0)              # the new layer learns
    if variant != "cnn":
        assert net.blobs["sum"].data.shape == net.blobs["data"].data.shape
        assert np.any(net.params["sconv1"][0].diff != 0)      # gradient reaches the SR front
        np.testing.assert_allclose(net.blobs["sum"].data,
                                   net.blobs["data"].data + net.blobs["sconv3"].data, rtol=1e-5)


@pytest.mark.parametrize("backbone", ["alexnet", "vgg16", "googlenet"])
def test_committed_deploy_nets_run_and_test_phase_has_accuracy(backbone):
    for racnn in (False, True):
        net = caffe.Net(layout.deploy_path(backbone, "birds", racnn), caffe.TEST)
        net.blobs["data"].data[...] = np.random.RandomState(0).uniform(0, 255, net.blobs["data"].data.shape)
        prob = net.forward()["prob"]
        assert prob.shape == (1, 200)
        np.testing.assert_allclose(prob.sum(), 1.0, rtol=1e-4)
        assert ("sum" in net.blobs) == racnn
        if racnn:
            assert net.blobs["sum"].data.shape == net.blobs["data"].data.shape
    if backbone != "vgg16":     # VGG's TEST net is the same graph; skip 140M more weights
        test = instantiate(layout.train_val_path(backbone, "birds", "racnn_g", "e2e", "paper"),
                           caffe.TEST, batch_size=2)
        out = test.forward()
        assert set(out) == {"loss", "accuracy"} and 0 <= out["accuracy"] <= 1


def _normalise(proto):
    """The structure of a train/val net with dataset- and preset-specific
    values removed: multipliers, last-layer name and width, sources, name."""
    proto = copy.deepcopy(proto)
    last = _last(proto)
    for layer in proto.layer:
        del layer.param[:]
        if layer.name == last:
            layer.inner_product_param.num_output = 0
            layer.name = "LAST"
        for field in (layer.top, layer.bottom):
            items = ["LAST" if v == last else v for v in field]
            del field[:]
            field.extend(items)
        if layer.type == "Data":
            layer.data_param.source = ""
    return text_format.MessageToString(proto)


def test_every_committed_net_is_a_structure_that_was_run():
    """108 train/val and 18 deploy files reduce to 2 structures per backbone
    and kind (CNN, RACNN), each run above; the multipliers that were removed
    are checked layer by layer in tests/nets/test_presets.py."""
    for pattern, run in (("*_train_val.prototxt", {(b, v != "cnn") for b, _, v, _, _ in RUNS}),
                         ("*_deploy.prototxt", {(b, r) for b in SIZE for r in (False, True)})):
        groups = collections.defaultdict(set)
        for path in glob.glob(os.path.join(REPO, "prototxt", "*", "*", pattern)):
            backbone = path.split(os.sep)[-3]
            groups[(backbone, _normalise(read_net(path)))].add(
                os.path.basename(path).startswith("racnn"))
        assert len(groups) == 6, pattern
        assert {(k[0], racnn) for k, v in groups.items() for racnn in v} == run
        assert all(len(v) == 1 for v in groups.values())
