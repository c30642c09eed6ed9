"""Audited weight loading (racnn.weights): the authors' SR weights into the
committed RACNN deploy nets, the RGB->BGR swap, load order, V1 caffemodels
with legacy shapes, missing blobs and shape mismatches, init_caffemodel and
its CLI (tools/init_weights.py); seeded initial weights: the new layers of
init.caffemodel are filled by Caffe's own fillers under the run's seed, so
the same seed gives the same file (the SMOKE demo twice:
tests/workflows/test_seeded_reruns.py)."""
import os
import re
import subprocess
import sys

import caffe
import numpy as np
import pytest
from caffe.proto import caffe_pb2

from racnn.errors import RacnnError
from racnn.nets import build_net, layout, write_net
from racnn.nets.dummy import instantiate
from racnn.paths import REPO
from racnn.weights import init_caffemodel, load_weights, read_caffemodel

caffe.set_mode_cpu()


SR_SHAPES = {"sconv1": ((64, 3, 9, 9), (64,)), "sconv2": ((32, 64, 5, 5), (32,)),
             "sconv3": ((3, 32, 5, 5), (3,))}


def file_arrays(path):
    """The caffemodel's values, read independently of racnn.weights."""
    proto = caffe_pb2.NetParameter()
    with open(path, "rb") as fh:
        proto.ParseFromString(fh.read())
    return {layer.name: [np.array(b.data, dtype=np.float32).reshape(tuple(b.shape.dim))
                         for b in layer.blobs] for layer in list(proto.layer) + list(proto.layers)
            if len(layer.blobs)}


def not_sr(net):
    return [name for name in net.params if not name.startswith("sconv")]


@pytest.mark.parametrize("backbone", ["alexnet", "vgg16", "googlenet"])
def test_authors_sr_weights_load_into_racnn_deploy_nets(backbone, authors_sr_weights):
    want = file_arrays(authors_sr_weights)
    assert {k: tuple(a.shape for a in v) for k, v in want.items()} == SR_SHAPES
    net = caffe.Net(layout.deploy_path(backbone, "cars", True), caffe.TEST)
    audit = load_weights(net, [authors_sr_weights], expected_new=not_sr(net))
    for name in SR_SHAPES:
        for i in range(2):
            np.testing.assert_array_equal(net.params[name][i].data, want[name][i])
            assert audit.source(name, i) == authors_sr_weights
    assert audit.loaded_from(authors_sr_weights) == ["sconv1", "sconv2", "sconv3"]
    assert audit.new_layers() == not_sr(net)
    text = audit.format()
    assert "6 blobs from %s" % authors_sr_weights in text
    assert re.search(r"^sconv1 +0 +64x3x9x9 +%s$" % re.escape(authors_sr_weights), text, re.M)
    assert re.search(r"^conv1\S* +0 +\S+ +new$", text, re.M)


def test_swap_reverses_rgb_to_bgr(authors_sr_weights):
    want = file_arrays(authors_sr_weights)
    net = instantiate(build_net("tiny", 5, dataset="toy", racnn=True, phase="deploy"), caffe.TEST)
    audit = load_weights(net, [authors_sr_weights], expected_new=not_sr(net),
                         swap_sr_rgb_to_bgr=True)
    np.testing.assert_array_equal(net.params["sconv1"][0].data, want["sconv1"][0][:, [2, 1, 0]])
    np.testing.assert_array_equal(net.params["sconv2"][0].data, want["sconv2"][0])
    np.testing.assert_array_equal(net.params["sconv3"][0].data, want["sconv3"][0][[2, 1, 0]])
    np.testing.assert_array_equal(net.params["sconv3"][1].data, want["sconv3"][1][[2, 1, 0]])
    assert "RGB->BGR" in audit.rows[0].note
    # the swapped front on a BGR image == the original front on the RGB image
    rng = np.random.RandomState(0)
    rgb = rng.uniform(0, 255, (1, 3, 64, 64)).astype(np.float32)
    net.blobs["data"].data[...] = rgb[:, ::-1]
    net.forward(end="sum")
    bgr_out = net.blobs["sum"].data.copy()
    plain = instantiate(build_net("tiny", 5, dataset="toy", racnn=True, phase="deploy"), caffe.TEST)
    load_weights(plain, [authors_sr_weights], expected_new=not_sr(plain))
    plain.blobs["data"].data[...] = rgb
    plain.forward(end="sum")
    np.testing.assert_allclose(bgr_out, plain.blobs["sum"].data[:, ::-1], rtol=1e-4, atol=1e-3)


def _save(net, path):
    net.save(str(path))
    return str(path)


def _tiny(racnn=False, classes=5, **kw):
    return instantiate(build_net("tiny", classes, dataset="toy", racnn=racnn, phase="deploy", **kw),
                       caffe.TEST)


def test_later_files_override_and_missing_blobs_fail(tmp_path):
    a, b = _tiny(), _tiny()
    first, second = _save(a, tmp_path / "a.caffemodel"), _save(b, tmp_path / "b.caffemodel")
    target = _tiny(racnn=True)
    with pytest.raises(RacnnError, match=r"no weights for 6 blobs in layers sconv1, sconv2, sconv3"):
        load_weights(target, [first])
    renamed = _tiny(classes=5, last_layer="fc7_other")       # a misnamed last layer
    with pytest.raises(RacnnError, match=r"layers fc7_other: .* the net lacks: fc7_toy"):
        load_weights(renamed, [first])
    audit = load_weights(target, [first, second], expected_new=["sconv1", "sconv2", "sconv3"])
    np.testing.assert_array_equal(target.params["conv1"][0].data, b.params["conv1"][0].data)
    assert audit.source("conv1") == second and audit.source("sconv1") == "new"
    with pytest.raises(RacnnError, match="expected-new layers not in the net: fc8"):
        load_weights(target, [first], expected_new=["fc8", "sconv1", "sconv2", "sconv3"])


def test_shape_mismatch_names_layer_file_and_shapes(tmp_path):
    other = _save(_tiny(classes=7), tmp_path / "seven.caffemodel")
    with pytest.raises(RacnnError) as err:
        load_weights(_tiny(classes=5), [other])
    message = str(err.value)
    assert "fc7_toy" in message and "seven.caffemodel" in message
    assert "7x256" in message and "5x256" in message


def test_v1_caffemodel_with_legacy_shapes_loads(tmp_path):
    """The VGG-16 release is a V1 file: ``layers`` and num/channels/height/width."""
    net = _tiny()
    rng = np.random.RandomState(3)
    v1 = caffe_pb2.NetParameter(name="old")
    values = {}
    for name, blobs in net.params.items():
        layer = v1.layers.add(name=name)
        for blob in blobs:
            shape = (1,) * (4 - blob.data.ndim) + blob.data.shape
            data = rng.randn(*blob.data.shape).astype(np.float32)
            values.setdefault(name, []).append(data)
            values_field = "double_data" if name == "conv2" else "data"   # both encodings
            layer.blobs.add(num=shape[0], channels=shape[1], height=shape[2], width=shape[3],
                            **{values_field: data.ravel().tolist()})
    path = tmp_path / "v1.caffemodel"
    path.write_bytes(v1.SerializeToString())
    assert list(read_caffemodel(str(path))) == list(net.params)
    audit = load_weights(net, [str(path)])
    for name, arrays in values.items():
        for blob, data in zip(net.params[name], arrays):
            np.testing.assert_array_equal(blob.data, data)
    assert not audit.new_layers()


def test_bad_files_give_clear_errors(tmp_path):
    junk = tmp_path / "junk.caffemodel"
    junk.write_bytes(b"\xff\xfe not a model")
    with pytest.raises(RacnnError, match="junk.caffemodel"):
        read_caffemodel(str(junk))
    with pytest.raises(RacnnError, match="caffemodel not found"):
        read_caffemodel(str(tmp_path / "missing.caffemodel"))


def test_init_caffemodel_from_train_val_and_cli(tmp_path, authors_sr_weights):
    backbone_model = _save(_tiny(), tmp_path / "backbone.caffemodel")
    net_path = str(tmp_path / "train_val.prototxt")
    with open(net_path, "w") as fh:        # Data layers point to nothing: not needed
        fh.write(str(build_net("tiny", 5, dataset="toy", racnn=True, sr_init="p",
                               train_source="/nonexistent/train", test_source="/nonexistent/test")))
    out = str(tmp_path / "init.caffemodel")
    audit = init_caffemodel(net_path, [backbone_model, authors_sr_weights], out,
                            swap_sr_rgb_to_bgr=True)
    assert audit.source("conv1") == backbone_model and audit.source("sconv3", 1) == authors_sr_weights
    saved = file_arrays(out)
    np.testing.assert_array_equal(saved["sconv1"][0], file_arrays(authors_sr_weights)["sconv1"][0][:, ::-1])
    assert not [p for p in os.listdir(str(tmp_path)) if p.endswith(".partial")]
    cli_out = str(tmp_path / "cli.caffemodel")
    run = subprocess.run([sys.executable, "tools/init_weights.py", net_path, backbone_model,
                          "--out", cli_out, "--new", "sconv1,sconv2,sconv3",
                          "--audit-json", str(tmp_path / "audit.json")],
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    assert run.returncode == 0, run.stderr
    assert "sconv1" in run.stdout and "new" in run.stdout and os.path.isfile(cli_out)
    run = subprocess.run([sys.executable, "tools/init_weights.py", net_path, backbone_model,
                          "--out", str(tmp_path / "no.caffemodel")], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert run.returncode == 2 and "no weights for 6 blobs" in run.stderr
    assert "Traceback" not in run.stderr and not os.path.exists(str(tmp_path / "no.caffemodel"))


# ------------------------------------------------------ seeded fillers

def _backbone_and_train_val(tmp_path):
    """A tiny backbone's weights (its own 'imagenet' last layer) and a
    train/val net whose last layer (fc7_birds) is new."""
    backbone = tmp_path / "backbone.caffemodel"
    proto = str(backbone) + ".prototxt"
    write_net(build_net("tiny", 1000, dataset="imagenet", phase="deploy"), proto)
    caffe.Net(proto, caffe.TEST).save(str(backbone))
    tv = str(tmp_path / "train_val.prototxt")
    write_net(build_net("tiny", 10, dataset="birds", phase="train_val", train_source="x",
                        test_source="y"), tv)
    return str(backbone), tv


def _init(tv, backbone, out, seed):
    init_caffemodel(tv, [backbone], str(out), expected_new=["fc7_birds"], seed=seed)
    return out.read_bytes(), file_arrays(str(out))


def test_same_seed_same_file_other_seed_other_new_layer(tmp_path):
    backbone, tv = _backbone_and_train_val(tmp_path)
    a, wa = _init(tv, backbone, tmp_path / "a.caffemodel", 1701)
    b, wb = _init(tv, backbone, tmp_path / "b.caffemodel", 1701)
    c, wc = _init(tv, backbone, tmp_path / "c.caffemodel", 1702)
    assert a == b                                       # byte for byte
    assert not np.array_equal(wa["fc7_birds"][0], wc["fc7_birds"][0])
    assert wa["fc7_birds"][0].std() > 0                 # a filler, not zeros
    loaded = file_arrays(backbone)
    for name in ("conv1", "fc6"):                       # loaded layers do not depend on it
        np.testing.assert_array_equal(wa[name][0], loaded[name][0])
        np.testing.assert_array_equal(wc[name][0], loaded[name][0])


def test_without_a_seed_the_filler_draws_differ(tmp_path):
    """The defect the seed fixes: Caffe's generator runs on from wherever it
    is, so two initialisations in a row fill the new layer differently."""
    backbone, tv = _backbone_and_train_val(tmp_path)
    _, wa = _init(tv, backbone, tmp_path / "a.caffemodel", None)
    _, wb = _init(tv, backbone, tmp_path / "b.caffemodel", None)
    assert not np.array_equal(wa["fc7_birds"][0], wb["fc7_birds"][0])
