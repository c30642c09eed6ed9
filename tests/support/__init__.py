"""Helpers the tests of several folders share (not tests themselves):
``from tests.support import evalkit``."""
