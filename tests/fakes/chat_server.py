"""A fake OpenAI-compatible chat endpoint: ``POST /v1/chat/completions`` on 127.0.0.1.

It stands in for a remote OpenAI-compatible LLM endpoint (OpenAI, Ollama, vLLM) that cannot
exist on this machine: no model server is installed and there is no network. It speaks OpenAI's
wire format and answers from a scripted responder (request messages → content string), with
knobs for what real endpoints and models do: fail the next requests with 500/429, answer slower
than the client's timeout, refuse a wrong key (401, echoing it) or an unknown model (404),
reject ``response_format`` (400), wrap answers in broken JSON (trailing commas, fences, prose).
It records every request body and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Responder = Callable[[list[dict[str, Any]]], str]


@dataclass(frozen=True)
class Fault:
    """What to do to one request instead of (or before) answering it."""

    status: int = 0
    delay_s: float = 0.0


def break_json(content: str) -> str:
    """``content`` as a sloppy model writes JSON: trailing commas, in a fence, prose around it."""
    try:
        value = json.loads(content)
    except ValueError:
        return content
    text = json.dumps(value, ensure_ascii=False, indent=2)
    text = re.sub(r"\n(\s*)([}\]])", r",\n\1\2", text)
    return f"Sure! Here is the JSON you asked for:\n```json\n{text}\n```\nHope this helps."


class FakeChatServer:
    """The fake endpoint; use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        responder: Responder,
        *,
        models: tuple[str, ...] = ("fake-chat",),
        api_key: str | None = None,
        retry_after_s: float = 0.01,
    ) -> None:
        self.responder = responder
        self.models = models
        self.api_key = api_key
        # Sent as retry-after-ms with 429/5xx answers so the client's backoff stays short.
        self.retry_after_s = retry_after_s
        self.broken_json = False
        self.reject_response_format = False
        self.hold_s = 0.0  # every answer waits this long, so concurrent requests overlap
        self.gather = 0  # every answer waits (up to 5 s) until this many requests are in flight
        self.requests: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

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

    def start(self) -> FakeChatServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed requests still sleeping give up at once."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _answer(
        self, body: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON reply for one request body, counted as in flight meanwhile."""
        with self._lock:
            self.requests.append(body)
            fault = self._faults.popleft() if self._faults else Fault()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._arrived.notify_all()
            self._arrived.wait_for(lambda: self._in_flight >= self.gather, timeout=5)
        try:
            self._stopping.wait(fault.delay_s + self.hold_s)
            return self._reply_to(body, authorization, fault)
        finally:
            # Left before the reply is written: once the client reads it, it may send another.
            with self._lock:
                self._in_flight -= 1

    def _reply_to(
        self, body: dict[str, Any], authorization: str | None, fault: Fault
    ) -> tuple[int, dict[str, Any]]:
        if fault.status:
            return fault.status, _error(f"injected failure {fault.status}", "server_error")
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            # Echoes the key it got, as some proxies do: clients must not pass it on.
            given = (authorization or "").removeprefix("Bearer ")
            return 401, _error(f"Incorrect API key provided: {given}", "invalid_api_key")
        model = body.get("model")
        if model not in self.models:
            return 404, _error(f"model {model!r} not found", "model_not_found")
        if self.reject_response_format and "response_format" in body:
            return 400, _error("response_format is not supported", "invalid_request")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, _error("messages must be a non-empty list", "invalid_request")
        content = self.responder(messages)
        if self.broken_json:
            content = break_json(content)
        return 200, {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }


def _error(message: str, code: str) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeChatServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client that timed out has hung up; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
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
        payload = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 429 or status >= 500:
            self.send_header("retry-after-ms", str(int(self.server.fake.retry_after_s * 1000)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""
