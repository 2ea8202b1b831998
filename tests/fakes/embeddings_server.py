"""A fake OpenAI-compatible embeddings endpoint: ``POST /v1/embeddings`` on 127.0.0.1.

It stands in for a remote OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, TEI) that cannot
exist on this machine: no such server is installed and there is no network. It speaks OpenAI's
wire format, answers deterministic vectors derived from each text (deliberately not unit length),
and has knobs for what real endpoints do: fail the next requests with 500/429, answer slower
than the client's timeout, refuse a wrong key (401) or an unknown model (404), shuffle the
``index`` order; it records every request body so tests can check batching. ``hold()`` makes
every request wait until ``release()``: a job embedding through it is then running, for as
long as the test wants, whatever the size of its document.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
import sys
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aibox.pipeline.embedders.openai import PROBE_TEXT


@dataclass(frozen=True)
class Fault:
    """What to do to one request instead of (or before) answering it."""

    status: int = 0
    delay_s: float = 0.0


def vector_for(text: str, dim: int) -> list[float]:
    """The raw vector the server answers for ``text``: hashed, with a text-dependent length."""
    digest = hashlib.shake_256(text.encode("utf-8")).digest(2 * dim)
    scale = 1 + len(text) % 7
    return [scale * v / 32768 for v in struct.unpack(f"<{dim}h", digest)]


class FakeEmbeddingsServer:
    """The fake endpoint; use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        *,
        dim: int = 16,
        models: tuple[str, ...] = ("fake-embed",),
        api_key: str | None = None,
        retry_after_s: float = 0.01,
    ) -> None:
        self.dim = dim
        self.models = models
        self.api_key = api_key
        # Sent as retry-after-ms with 429/5xx answers so the client's backoff stays short.
        self.retry_after_s = retry_after_s
        self.shuffle = False
        self.requests: list[dict[str, Any]] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._waiting = threading.Condition()
        self.held = 0  # requests waiting behind hold() right now
        self._answer_before_holding = 0
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def settings(self) -> dict[str, str]:
        """aibox's environment for embedding through this endpoint (requests held by
        ``hold()`` wait as long as the test needs: the client's timeout is 600 s)."""
        return {
            "AIBOX_EMBEDDER": "openai",
            "AIBOX_OPENAI_BASE_URL": self.url,
            "AIBOX_OPENAI_EMBEDDING_MODEL": self.models[0],
            "AIBOX_OPENAI_TIMEOUT_S": "600",
        }

    @property
    def url(self) -> str:
        """Base URL for an OpenAI client, ending in ``/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (e.g. 500, 503, 429)."""
        with self._lock:
            self._faults.extend(Fault(status=status) for _ in range(count))

    def delay_next(self, count: int, seconds: float) -> None:
        """Answer the next ``count`` requests only after ``seconds`` (a client timeout)."""
        with self._lock:
            self._faults.extend(Fault(delay_s=seconds) for _ in range(count))

    def hold(self, after: int = 0) -> None:
        """Make every request from now on wait (without an answer) until ``release()`` — every
        request of a job, that is: a worker's start-up probe (one ``PROBE_TEXT``) is answered,
        so that what is held is a running job, never a worker process still starting. With
        ``after``, that many requests are answered first (a job part way through)."""
        with self._lock:
            self._answer_before_holding = after
        self._open.clear()

    def release(self) -> None:
        """Let the held requests (and later ones) be answered."""
        self._open.set()

    def wait_held(self, count: int = 1, timeout: float = 60) -> None:
        """Block until ``count`` requests wait behind ``hold()``; TimeoutError otherwise."""
        with self._waiting:
            if not self._waiting.wait_for(lambda: self.held >= count, timeout=timeout):
                raise TimeoutError(f"{self.held} of {count} requests held after {timeout}s")

    def start(self) -> FakeEmbeddingsServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed or held requests give up at once."""
        self._stopping.set()
        self._open.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeEmbeddingsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _let_pass(self) -> bool:
        """True for the requests ``hold(after=N)`` still lets through."""
        with self._lock:
            if self._answer_before_holding <= 0:
                return False
            self._answer_before_holding -= 1
            return True

    def _answer(
        self, body: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON reply for one request body."""
        if not self._open.is_set() and body.get("input") != [PROBE_TEXT] and not self._let_pass():
            with self._waiting:
                self.held += 1
                self._waiting.notify_all()
            self._open.wait()
            with self._waiting:
                self.held -= 1
        with self._lock:
            self.requests.append(body)
            fault = self._faults.popleft() if self._faults else Fault()
        if fault.delay_s:
            self._stopping.wait(fault.delay_s)
        if fault.status:
            return fault.status, _error(f"injected failure {fault.status}", "server_error")
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            # Echoes the key it got, as some proxies do: clients must not pass it on.
            given = (authorization or "").removeprefix("Bearer ")
            return 401, _error(f"Incorrect API key provided: {given}", "invalid_api_key")
        model = body.get("model")
        if model not in self.models:
            return 404, _error(f"model {model!r} not found", "model_not_found")
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if (
            not isinstance(texts, list)
            or not texts
            or not all(isinstance(t, str) and t for t in texts)
        ):
            return 400, _error("input must be a non-empty string or list of them", "invalid_input")
        data = [
            {"object": "embedding", "index": i, "embedding": self._encode(t, body)}
            for i, t in enumerate(texts)
        ]
        if self.shuffle:
            random.shuffle(data)
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"object": "list", "data": data, "model": model, "usage": usage}

    def _encode(self, text: str, body: dict[str, Any]) -> list[float] | str:
        """One text's vector in the requested ``encoding_format``."""
        vector = vector_for(text, self.dim)
        if body.get("encoding_format") == "base64":
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return vector


def _error(message: str, code: str) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeEmbeddingsServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client that timed out has hung up; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/embeddings":
            self._reply(404, _error(f"no route {self.path}", "not_found"))
            return
        length = int(self.headers.get("Content-Length", 0))
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self._reply(400, _error("body is not JSON", "invalid_json"))
            return
        status, reply = self.server.fake._answer(body, self.headers.get("Authorization"))
        self._reply(status, reply)

    def _reply(self, status: int, reply: dict[str, Any]) -> None:
        payload = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 429 or status >= 500:
            self.send_header("retry-after-ms", str(int(self.server.fake.retry_after_s * 1000)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""
