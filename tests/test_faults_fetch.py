"""Issue 14, item 2: a download cut short by the server is refused, even for
a file without a published checksum (the VGG-16 case), and nothing of it is
installed or recorded.  A real HTTP server on 127.0.0.1 announces 200000
bytes, sends 100000 and closes the connection."""
import http.server
import os
import threading

import pytest

from racnn import fetch
from racnn.errors import RacnnError

ANNOUNCED, SENT = 200000, 100000


class _ShortBody(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(ANNOUNCED))
        self.end_headers()
        self.wfile.write(b"\x01" * SENT)
        self.wfile.flush()
        self.close_connection = True         # then the connection is cut

    def log_message(self, *args):
        pass


@pytest.fixture
def short_server():
    """The base URL of a server that answers ``requests`` GETs with a short
    body, then stops by itself (each wait bounded by a socket timeout)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _ShortBody)
    server.timeout = 20

    def serve(requests=2):
        for _ in range(requests):
            server.handle_request()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    thread.join(45)
    server.server_close()


def test_item02_truncated_download_refused_nothing_installed(short_server, tmp_path):
    data = str(tmp_path / "data")
    spec = fetch.FileSpec(short_server + "VGG_ILSVRC_16_layers.caffemodel",
                          "VGG_ILSVRC_16_layers.caffemodel", None, None, False)
    res = fetch.Resource("vggcut", "cut", "model", (spec,), "models/vggcut.caffemodel", (),
                         "tests")
    said = []
    for _ in range(2):                   # a second try is refused the same way
        with pytest.raises(RacnnError) as err:
            fetch.fetch(res, data, say=said.append)
        assert "announced %d bytes and sent %d" % (ANNOUNCED, SENT) in str(err.value)
        assert spec.url in str(err.value)
    models = os.path.join(data, "models")
    assert os.listdir(models) == []                  # no file, no .partial, no .sha256
    assert not any("recording sha256" in line for line in said)
    with pytest.raises(RacnnError, match="is missing"):
        fetch.require(res, data)
