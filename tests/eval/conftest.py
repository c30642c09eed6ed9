"""The evaluation tests' small real things (tests.support.evalkit): two test
sets with a tiny hand-set net, made once per session and only read."""
import caffe
import pytest

from tests.support import evalkit as kit


@pytest.fixture(scope="session")
def setup(tmp_path_factory):
    """The imbalanced set (kit.IMBALANCED, 37 images, class 3 absent): its
    database, a train_val net reading all of it in one batch, the deploy
    net (batches of 8), hand-set weights."""
    d = tmp_path_factory.mktemp("eval")
    n = sum(kit.IMBALANCED)
    images, labels = kit.colour_images(kit.IMBALANCED)
    db = kit.write_db(str(d / "test_db"), images, labels)
    tv = kit.tiny_train_val(str(d / "train_val.prototxt"), db, batch=n)
    deploy = kit.tiny_deploy(str(d / "deploy.prototxt"), batch=8)
    weights = kit.hand_weights(deploy, str(d / "tiny_iter_100.caffemodel"))
    return dict(dir=d, db=db, tv=tv, deploy=deploy, weights=weights, labels=labels)


@pytest.fixture(scope="session")
def caffe_reference(setup):
    """One TEST forward of the train_val net: its Data layer reads all N
    images in one batch, Caffe's Accuracy layer gives per-class accuracy."""
    n = sum(kit.IMBALANCED)
    caffe.set_mode_cpu()
    net = caffe.Net(setup["tv"], caffe.TEST, weights=setup["weights"])
    net.forward()
    return dict(accuracy=float(net.blobs["accuracy"].data),
                per_class=net.blobs["per_class"].data.copy(),
                prob=net.blobs["prob"].data.reshape(n, -1).copy(),
                label=net.blobs["label"].data.astype(int).copy())


@pytest.fixture(scope="session")
def small_setup(tmp_path_factory):
    """The fault cases' set (kit.SMALL, 14 images): its database, the deploy
    net (batches of 4), hand-set weights."""
    d = tmp_path_factory.mktemp("faults_eval")
    images, labels = kit.colour_images(kit.SMALL, seed=7)
    db = kit.write_db(str(d / "test_db"), images, labels)
    deploy = kit.tiny_deploy(str(d / "deploy.prototxt"), batch=4)
    weights = kit.hand_weights(deploy, str(d / "tiny_iter_10.caffemodel"))
    return dict(dir=d, db=db, deploy=deploy, weights=weights)
