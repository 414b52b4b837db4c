"""Real SPARQL servers for the tests, started on loopback and stopped by PID: `oxigraph serve`
(from the test extras) and OpenLink Virtuoso (Debian's `virtuoso-opensource`, which `.ci/run`
installs). Never a mock of either. And a loopback HTTP server answering as a test tells it, for the
faults real servers do not make on demand (refusals, drips, floods, redirects)."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")
#: Where Debian keeps Virtuoso's HTTP server root (the SPARQL pages need it).
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, what: str, log: Path | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{what} did not start: {detail}") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@contextmanager
def oxigraph_server(location: Path):
    """`oxigraph serve` on a free loopback port; yields its query URL; stopped afterwards."""
    if OXIGRAPH is None:
        pytest.fail("the oxigraph server command is missing: install the test extras (pip install -e '.[test]')")
    port = free_port()
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/query?query=ASK%7B%7D", process, "oxigraph serve")
        yield f"{base}/query"
    finally:
        _stop(process)


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {db}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
MaxMemPoolSize = 2000000000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 120
"""


@contextmanager
def virtuoso_server(location: Path, *, max_rows: int = 1_000_000):
    """Virtuoso on free loopback ports with a fresh database in ``location``; yields its SPARQL URL.

    ``max_rows`` is its ResultSetMaxRows: the most rows (or triples) it gives in one answer.

    SPARQL Update is granted to the anonymous ``SPARQL`` user through ``isql-vt``, as the
    README's recipe says; the server is stopped by PID afterwards.
    """
    with virtuoso_ports(location, max_rows=max_rows, grant=True) as (http_port, _):
        yield f"http://127.0.0.1:{http_port}/sparql"


@contextmanager
def virtuoso_ports(location: Path, *, max_rows: int = 1_000_000, grant: bool = False):
    """Virtuoso as :func:`virtuoso_server` starts it, yielding its (HTTP, SQL) ports; the grant left to the caller
    unless ``grant``."""
    if VIRTUOSO is None or ISQL is None:
        pytest.fail("Virtuoso is missing: install Debian's virtuoso-opensource (.ci/run does)")
    location.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = location / "virtuoso.ini"
    ini.write_text(_VIRTUOSO_INI.format(db=location, sql_port=sql_port, http_port=http_port, vsp=VIRTUOSO_VSP,
                                        max_rows=max_rows))
    process = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(ini)], cwd=location,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_for(f"{base}/sparql?query=ASK%7B%7D", process, "Virtuoso", location / "virtuoso.log", seconds=120)
        if grant:
            subprocess.run([ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                           check=True, capture_output=True, timeout=60)
        yield http_port, sql_port
    finally:
        _stop(process)


@contextmanager
def handler_server(respond):
    """A loopback HTTP server whose every request is answered by respond(handler)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length else b""
            respond(self)

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/query"
    finally:
        httpd.shutdown()
        httpd.server_close()
