"""`kapcare bench load`: requests per second through the real web server.

Starts gunicorn (as `kapcare serve` runs it: `kapcare.wsgi`, two worker processes) on a free
loopback port with the same settings, signs a practice admin in by writing a session with
Django's session store (the cookie is passed to every request), and runs `wrk` against a few
pages for a fixed time each. The ceiling is `/healthz`, which touches no database: the ratio of
a page's requests per second to the ceiling's says how much of the server's capacity the page
itself uses. gunicorn is stopped however the run ends (errors, Ctrl-C, SIGTERM).

Without `wrk` installed the load test is skipped with a message (apt-get install wrk).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase

from kapcare.accounts.middleware import SIGNED_IN_KEY
from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.time import now
from kapcare.synthetic.benchmarks import BenchError, Write, client_by_history, practice_admin

WRK_MISSING = (
    "kapcare bench load: wrk is not installed, so the load test is skipped "
    "(install it with: apt-get install wrk)."
)
PERCENTILES = ("50%", "75%", "90%", "99%")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    latency_ms: dict[str, float]  # percentile ("50%") -> milliseconds
    non_2xx_3xx: int
    socket_errors: str

    @property
    def errors(self) -> str:
        parts = []
        if self.non_2xx_3xx:
            parts.append(f"{self.non_2xx_3xx} non-2xx/3xx")
        if self.socket_errors:
            parts.append(f"socket errors: {self.socket_errors}")
        return "; ".join(parts)


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """The figures of `wrk --latency` output."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if rate is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    latency = {}
    for percentile in PERCENTILES:
        found = re.search(rf"^\s*{re.escape(percentile)}\s+(\S+)", output, re.MULTILINE)
        if found:
            latency[percentile] = _milliseconds(found.group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors:\s+(.+)", output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        latency_ms=latency,
        non_2xx_3xx=int(bad.group(1)) if bad else 0,
        socket_errors=sockets.group(1).strip() if sockets else "",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed_in_session(user: User) -> SessionBase:
    """A saved session in which `user` is signed in, as Django's login() would leave it."""
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore()
    backends = settings.AUTHENTICATION_BACKENDS
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = next(
        (path for path in backends if path.endswith(".ModelBackend")), backends[-1]
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SIGNED_IN_KEY] = now().timestamp()
    store.save()
    return store


def request_headers(cookie: str | None) -> dict[str, str]:
    """Host (an allowed one), the proxy's HTTPS header when the settings expect one, and the
    session cookie."""
    host = next(
        (name for name in settings.ALLOWED_HOSTS if name and name != "*" and name[0] != "."),
        "127.0.0.1",
    )
    headers = {"Host": host}
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        headers[name.removeprefix("HTTP_").replace("_", "-").title()] = value
    if cookie:
        headers["Cookie"] = cookie
    return headers


def fetch(port: int, path: str, headers: dict[str, str]) -> int:
    """One GET, not following redirects: the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextmanager
def _stopped_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C does (so `finally` blocks stop the server)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def web_server(*, workers: int, threads: int, scratch: Path) -> Iterator[Server]:
    """gunicorn serving kapcare on a free loopback port, stopped on the way out.

    It serves static files as in production (collected, with hashed names), collected first
    into `scratch` so the practice's own static folder is left alone."""
    environment = {**os.environ, "KAPCARE_STATIC_ROOT": str(scratch / "static")}
    collected = subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if collected.returncode != 0:
        raise BenchError(f"collectstatic failed:\n{collected.stderr.strip()}")
    server = Server(free_port(), scratch / "gunicorn.log")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "kapcare.wsgi:application",
        "--bind",
        f"127.0.0.1:{server.port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--graceful-timeout",
        "5",
        "--no-control-socket",
    ]
    with server.log.open("wb") as output:
        # Its own process group: Ctrl-C reaches this process, which stops the server itself.
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            argv,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    try:
        _wait_until_up(process, server)
        yield server
    finally:
        _stop(process)


def _wait_until_up(process: subprocess.Popen[bytes], server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited ({process.returncode}):\n{server.tail()}")
        try:
            if fetch(server.port, "/healthz", request_headers(None)) == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within 60 s:\n{server.tail()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()  # the master stops its workers
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # the group this run started, nothing else
        server.wait(timeout=10)


def run_wrk(
    wrk: str, *, port: int, path: str, headers: dict[str, str], seconds: int, connections: int
) -> WrkResult:
    argv = [
        wrk,
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--latency",
    ]
    for name, value in headers.items():
        argv += ["--header", f"{name}: {value}"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    done = subprocess.run(  # noqa: S603 (wrk, found on PATH, with our arguments)
        argv, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def bench_load(
    write: Write, *, seconds: int, connections: int, workers: int = 2, threads: int = 4
) -> bool:
    """Requests per second and latency for the ceiling, the client list and a chart; False
    when skipped (no wrk)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        write(WRK_MISSING)
        return False
    admin = practice_admin()
    client = client_by_history(most=True) or Client.objects.order_by("id").first()
    targets = [("ceiling: /healthz (no database)", "/healthz", False)]
    targets.append(("client list /clients/", "/clients/", True))
    if client is not None:
        targets.append(("chart, most history", f"/clients/{client.public_id}/", True))
    session = signed_in_session(admin)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    try:
        with (
            _stopped_on_sigterm(),
            tempfile.TemporaryDirectory(prefix="kapcare-bench-") as scratch,
            web_server(workers=workers, threads=threads, scratch=Path(scratch)) as server,
        ):
            write(
                f"kapcare bench load: gunicorn, {workers} workers x {threads} threads on "
                f"127.0.0.1:{server.port}; wrk, 1 thread, {connections} connections, "
                f"{seconds} s per page, signed in as {admin.username}"
            )
            write(
                f"{'page':<36} {'req/s':>8} {'p50':>8} {'p75':>8} {'p90':>8} {'p99':>8} "
                f"{'vs ceiling':>10}  errors"
            )
            ceiling: float | None = None
            for label, path, signed in targets:
                headers = request_headers(cookie if signed else None)
                _expect_ok(server, path, headers, "before")
                result = run_wrk(
                    wrk,
                    port=server.port,
                    path=path,
                    headers=headers,
                    seconds=seconds,
                    connections=connections,
                )
                _expect_ok(server, path, headers, "after")
                if ceiling is None:
                    ceiling = result.requests_per_second
                ratio = result.requests_per_second / ceiling if ceiling else 0.0
                latency = " ".join(
                    f"{result.latency_ms.get(p, float('nan')):8.1f}" for p in PERCENTILES
                )
                write(
                    f"{label:<36} {result.requests_per_second:8.1f} {latency} {ratio:10.2f}  "
                    f"{result.errors or '-'}"
                )
            write("latency percentiles in ms")
    finally:
        session.delete()
    return True


def _expect_ok(server: Server, path: str, headers: dict[str, str], when: str) -> None:
    """The page answers 200 (signed in, not redirected to the sign-in page)."""
    status = fetch(server.port, path, headers)
    if status != 200:
        raise BenchError(f"{path} answered {status} {when} the load test:\n{server.tail()}")
