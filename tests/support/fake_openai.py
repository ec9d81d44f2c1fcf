"""A small OpenAI-compatible HTTP server for tests and benchmarks, playing scripted answers and
failures (429 with Retry-After, 500, hangs, broken JSON, refusals).

It serves ``POST /v1/chat/completions`` and ``POST /v1/embeddings`` on 127.0.0.1 from a thread,
records every request body, and answers with whatever the ``responder`` returns for it.

    with FakeOpenAI(script([status(429, retry_after=0.1), ok('{"triples": []}')])) as server:
        LLMExtractor("m", base_url=server.url)...
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """What the server does for one request."""

    status: int = 200
    #: chat answer text (status 200)
    content: str | None = ""
    refusal: str | None = None
    finish_reason: str = "stop"
    usage: tuple[int, int, int] = (100, 20, 0)
    headers: dict[str, str] = field(default_factory=dict)
    #: raw body for error statuses
    body: dict[str, Any] | None = None
    #: seconds to wait before answering (a hang when longer than the client's timeout)
    delay: float = 0.0


def ok(content: str, *, usage: tuple[int, int, int] = (100, 20, 0), **kw: Any) -> Answer:
    return Answer(content=content, usage=usage, **kw)


def status(code: int, *, retry_after: float | None = None, message: str = "error") -> Answer:
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    return Answer(
        status=code,
        headers=headers,
        body={"error": {"message": message, "type": "test", "code": code}},
    )


Responder = Callable[[dict[str, Any], int], Answer]


def script(answers: Sequence[Answer], then: Answer | None = None) -> Responder:
    """Answer requests in order; after the list, repeat ``then`` (or the last answer)."""
    items = list(answers)

    def respond(_body: dict[str, Any], n: int) -> Answer:
        if n < len(items):
            return items[n]
        return then if then is not None else items[-1]

    return respond


def fake_vector(text: str, dim: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(b - 128) / 128.0 for b in digest[:dim]]


class FakeOpenAI:
    """The server; ``requests`` holds every chat request body, in arrival order."""

    def __init__(self, responder: Responder, *, embed_dim: int = 8) -> None:
        self.responder = responder
        self.embed_dim = embed_dim
        self.requests: list[dict[str, Any]] = []
        self.embed_requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, body: dict[str, Any]) -> tuple[Answer, dict[str, Any] | None]:
        with self._lock:
            n = len(self.requests)
            self.requests.append(body)
        answer = self.responder(body, n)
        if answer.status != 200:
            return answer, answer.body or {"error": {"message": "error"}}
        message: dict[str, Any] = {"role": "assistant", "content": answer.content}
        if answer.refusal is not None:
            message["refusal"] = answer.refusal
        prompt, completion, cached = answer.usage
        return answer, {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }

    def _embed(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.embed_requests.append(body)
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        return {
            "object": "list",
            "model": body.get("model", "fake"),
            "data": [
                {"object": "embedding", "index": i, "embedding": fake_vector(t, self.embed_dim)}
                for i, t in reversed(list(enumerate(inputs)))
            ],
            "usage": {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": 0},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle and delayed ACKs
            # add ~40 ms to every answer
            disable_nagle_algorithm = True

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if self.path.endswith("/embeddings"):
                        self._send(200, server._embed(body), {})
                        return
                    answer, payload = server._answer(body)
                    if answer.delay:
                        time.sleep(answer.delay)
                    self._send(answer.status, payload, answer.headers)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, code: int, payload: Any, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler


def serve(responder: Responder) -> Iterator[FakeOpenAI]:
    """A generator for pytest fixtures."""
    with FakeOpenAI(responder) as server:
        yield server


def main() -> None:
    """Serve in its own process (benchmarks): answer every chat request with ``--answer`` after
    ``--delay`` seconds; print the base URL on the first line."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--answer", default='{"named_entities": [], "triples": [], "events": []}')
    args = parser.parse_args()
    with FakeOpenAI(script([ok(args.answer, delay=args.delay)])) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
