"""The README run as one script, in order, on a fresh copy of the project: every ``sh`` block and the
Python example as written, with this environment's ``kg``.

What a reader does between the commands — fill in the claims, correct a figure — is done where the
README says so; the placeholders it names (``my-question.rq``, ``facts/my-source.ttl``) are
provided. Blocks that need a server on fixed ports, or a new virtual environment, are not run here:
each is listed with the test that covers it, and a block neither run nor listed fails the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, SOURCES

README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent

#: Blocks not run here (by their first line), and what covers them.
NOT_RUN = {
    "pip install oxigraph": "a server on port 7878: run as written on a free port by "
                            "test_the_readmes_server_recipes_run_as_written_on_free_ports",
    "sudo apt-get install virtuoso-opensource": "Virtuoso on its default ports: run as written on free ports by "
                                                "test_the_readmes_server_recipes_run_as_written_on_free_ports",
    "kg load --endpoint http://localhost:3030/kg/sparql --server fuseki": "Fuseki: documented only, as the README says",
    "kg load --endpoint http://localhost:7200/repositories/kg \\": "GraphDB: documented only, as the README says",
}
#: Lines not run (their block is), and why.
NOT_RUN_LINES = {"make test": "the suite this test is part of"}
#: What the reader does where the README's comment says so.
READER = {
    "#    is tests/fixtures/fictional-monitor-2024.ttl.":
        "cp tests/fixtures/fictional-monitor-2024.ttl facts/fictional-monitor-2024.ttl",
    "#  The monitor corrects itself: edit the file (160 → 161), then replace the source, saying why.":
        "sed -i 's/kg:value 160 ;/kg:value 161 ;/' facts/fictional-monitor-2024.ttl",
}
#: What each block's output must say (by first line): the README's own answers.
EXPECTED = {
    "make demo": ["153", "121", "2.536", "137", "59"],
    "kg summary": ["compare-periods", "evidence"],
    "kg load tests/fixtures/multi/*.ttl": ["Fictional Wire", "Fictional Gazette", "relay variation", "Monday"],
    "kg validate": ["Validation conforms"],
    "pyshacl -s ontology/shapes.ttl": ["Conforms: True"],
    "T=tests/fixtures/fictional-monitor-2024.txt": ["3 quotes placed in the text", "disagrees with",
                                                    '+ fictional-monitor-2024/attacks-2024-h1 kg:value "161"',
                                                    "The monitor corrected 160 to 161", "The monitor withdrew the figure"],
    "kg load": ["unchanged"],
    "kg report --out report.html": ["wrote report.html"],
}


def blocks() -> list[tuple[str, str]]:
    """(language, text) of every sh and python block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(sh|python)\n(.*?)```", README, re.S)]


def _script(text: str, venv: Path) -> str:
    lines = []
    for line in text.splitlines():
        if any(line.startswith(skipped) for skipped in NOT_RUN_LINES):
            continue
        if line.startswith("make demo"):
            # The demo as written, with this environment instead of a new one (`make test` built it).
            line = f"make -o {venv}/bin/kg demo VENV={venv}"
        lines.append(line)
        lines += [action for comment, action in READER.items() if line == comment]
    return "\n".join(lines)


@pytest.fixture()
def fresh_copy(tmp_path) -> Path:
    """What a clone holds that the README's commands read, beside ../shared where the first source's text lives."""
    copy = tmp_path / "kg"
    for folder in ("ontology", "facts", "queries"):
        shutil.copytree(ROOT / folder, copy / folder)
    shutil.copytree(FIXTURES, copy / "tests" / "fixtures")
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    if SOURCES.is_dir():
        shutil.copytree(SOURCES, tmp_path / "shared" / "sources")
    return copy


def _placeholders(copy: Path, text: str) -> None:
    """The files the README names as the reader's own, written when a block first names them: a question,
    and a source (FICTIONAL: the walkthrough's monitor under other IRIs)."""
    if "my-question.rq" in text and not (copy / "my-question.rq").exists():
        (copy / "my-question.rq").write_text("SELECT (COUNT(*) AS ?claims) WHERE { ?c <https://w3id.org/conflict-kg/"
                                             "ontology#statedIn> ?s }\n", encoding="utf-8")
    if "facts/my-source.ttl" in text and not (copy / "facts" / "my-source.ttl").exists():
        monitor = (FIXTURES / "fictional-monitor-2024.ttl").read_text(encoding="utf-8")
        (copy / "facts" / "my-source.ttl").write_text(
            monitor.replace("fictional-monitor", "my-source"), encoding="utf-8")  # its IRIs; its quotes stay true


def test_the_readme_runs_in_order_as_written(fresh_copy):
    venv = BIN.parent
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "KG_LOCK_WAIT": "30"}
    env.pop("KG_STORE", None)
    found = blocks()
    ran = []
    for language, text in found:
        first = text.splitlines()[0]
        if any(first.startswith(skipped) for skipped in NOT_RUN):
            continue
        _placeholders(fresh_copy, text)
        if language == "python":
            code = text + "\nprint(row['value_a'], row['value_b'], row['annualised_ratio'], conforms)\n"
            result = subprocess.run([sys.executable, "-c", code], cwd=fresh_copy, env=env, capture_output=True,
                                    text=True, timeout=300)
            assert result.returncode == 0, result.stderr[-3000:]
            assert result.stdout.strip().splitlines()[-1] == "153 121 2.536 True"
            ran.append("python")
        else:
            result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", _script(text, venv)], cwd=fresh_copy,
                                    env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, f"README block {first!r} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            key = max((k for k in EXPECTED if first.startswith(k)), key=len, default=None)
            for expected in EXPECTED.get(key, []):
                assert expected in result.stdout + result.stderr, (first, expected)
            ran.append(key)
    assert set(EXPECTED) <= set(ran), set(EXPECTED) - set(ran)
    assert len(ran) + len([t for _, t in found if any(t.startswith(s) for s in NOT_RUN)]) == len(found)
    assert (fresh_copy / "positions.csv").read_text(encoding="utf-8").startswith("holder,")
    assert (fresh_copy / "report.html").stat().st_size > 10_000


def _recipe(first_line: str) -> str:
    return next(text for language, text in blocks() if text.startswith(first_line))


@pytest.mark.parametrize("server", ["oxigraph", "virtuoso"])
def test_the_readmes_server_recipes_run_as_written_on_free_ports(server, fresh_copy, tmp_path):
    """"Loading into your triple store": each recipe's lines run in order as written, with only the ports changed
    (7878; 8890 and 1111 may be taken here) and the install line left out (the package is there: the tests use it)."""
    from servers import free_port, virtuoso_ports

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("KG_STORE", None)
    pid_file = tmp_path / "server.pid"
    with contextlib.ExitStack() as stack:
        if server == "oxigraph":
            text = _recipe("pip install oxigraph")
            ports = {"7878": str(free_port())}
            # The recipe starts the server in the background; the test notes its PID to stop it afterwards.
            script = [line for line in text.splitlines() if not line.startswith("pip install")]
            script.insert(1, f"echo $! > {pid_file}")
            expected = ["triples written in 3 graphs", "69.9", "Validation conforms", "Graphs — 3"]
        else:
            text = _recipe("sudo apt-get install virtuoso-opensource")
            http_port, sql_port = stack.enter_context(virtuoso_ports(tmp_path / "virtuoso", grant=False))
            ports = {"8890": str(http_port), "1111": str(sql_port)}
            script = [line for line in text.splitlines() if not line.startswith("sudo apt-get install")]
            expected = ["triples written in 3 graphs", "2.536", "Graphs — 3"]
        body = "\n".join(script)
        for port, free in ports.items():
            assert port in body
            body = body.replace(port, free)
        # Output to a file, not a pipe: the server the recipe leaves running would hold a pipe open.
        output = tmp_path / "output.txt"
        try:
            with output.open("w") as out:
                result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=fresh_copy, env=env,
                                        stdout=out, stderr=subprocess.STDOUT, timeout=300)
        finally:
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
        said = output.read_text(encoding="utf-8")
        assert result.returncode == 0, f"{server} recipe failed:\n{said[-4000:]}"
        for words in expected:
            assert words in said, (server, words, said[-3000:])
