"""A tiny stand-in for huggingface.co on localhost: model_info with checksums, HEAD/GET of files, slow or corrupt."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, files: dict[str, bytes], lfs: set[str], *, corrupt: str = "", delay_s: float = 0.0):
        self.files, self.lfs, self.corrupt, self.delay_s = files, lfs, corrupt, delay_s
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._serve(self, body=False)

            def do_GET(self):
                hub._serve(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.requests: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def info(self, repo: str) -> dict:
        siblings = []
        for name, data in self.files.items():
            entry = {
                "rfilename": name,
                "size": len(data),
                "blobId": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
            }
            if name in self.lfs:
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            siblings.append(entry)
        return {"id": repo, "modelId": repo, "sha": COMMIT, "siblings": siblings, "private": False}

    def _serve(self, h, body: bool) -> None:
        path = h.path.split("?")[0]
        self.requests.append(f"{h.command} {h.path}")
        if path.startswith("/api/models/"):
            repo = path.removeprefix("/api/models/").split("/revision/")[0]
            data = json.dumps(self.info(repo)).encode()
            return self._send(h, 200, data, {"Content-Type": "application/json"}, body)
        if "/resolve/" in path:
            repo, _, rest = path.lstrip("/").partition("/resolve/")
            _rev, _, name = rest.partition("/")
            if name not in self.files:
                return self._send(h, 404, b"", {"X-Error-Code": "EntryNotFound"}, body)
            data = self.files[name]
            etag = hashlib.sha256(data).hexdigest() if name in self.lfs else hashlib.sha1(data).hexdigest()
            if name == self.corrupt:
                data = bytes([data[0] ^ 1]) + data[1:]
            return self._send(h, 200, data, {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'}, body, slow=True)
        return self._send(h, 404, b"", {}, body)

    def _send(self, h, code, data, headers, body, slow=False):
        h.send_response(code)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if not body:
            return
        step = 1 << 16
        try:
            for i in range(0, len(data), step):
                h.wfile.write(data[i : i + step])
                if slow and self.delay_s:
                    time.sleep(self.delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass
