"""RACNN-Caffe: a Caffe-faithful reproduction of "Convolutional Low-Resolution
Fine-Grained Classification" (Cai et al., RACNN).

The library runs inside Debian bullseye's BVLC Caffe 1.0 environment
(Python 3.9); see docker/ and the README.
"""
__version__ = "0.1.0"
