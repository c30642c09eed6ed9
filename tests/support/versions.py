"""The Caffe the environment provides, named once for every test that asserts
it: BVLC Caffe 1.0 as Debian bullseye packages it (docker/provision.sh), and
the Debian source version the CUDA build compiles (docker/Dockerfile.gpu,
docker/gpu/build_caffe_gpu.sh)."""

#: ``caffe.__version__`` and ``caffe --version``'s number
CAFFE_VERSION = "1.0.0"
#: the Debian source package version: upstream git 99bd997, Debian revision -8
CAFFE_DEBIAN_VERSION = CAFFE_VERSION + "+git20180821.99bd997-8"
