"""The subprocess sandbox that runs test programs: outcomes, timeout, isolation."""

from __future__ import annotations

import socket
import time

import pytest

from slm_lsp.evaluation.sandbox import network_isolation, run_program, run_programs


def test_outcomes() -> None:
    assert run_program("assert 1 + 1 == 2\n").status == "passed"
    failed = run_program("def check(f):\n    assert f(1) == 3\ncheck(lambda x: x + 1)\n")
    assert failed.status == "failed" and failed.detail == "AssertionError"
    assert run_program("def f(:\n").detail.startswith("SyntaxError")


def test_an_infinite_loop_times_out() -> None:
    started = time.perf_counter()
    result = run_program("while True:\n    pass\n", timeout=1.0)
    assert result.status == "timeout"
    assert not result.passed
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "escape",
    ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "exit()", "raise SystemExit(0)", "import subprocess"],
)
def test_a_program_cannot_fake_a_pass_by_exiting(escape: str) -> None:
    assert run_program(escape + "\nassert False\n").status == "failed"


def test_destructive_functions_are_disabled() -> None:
    result = run_program("import os\nos.remove('program.py')\n")
    assert result.status == "failed" and "NoneType" in result.detail


def test_fresh_directory_and_no_inherited_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("SLM_LSP_SECRET", "x")
    program = (
        "import os\n"
        "assert sorted(os.listdir('.')) == ['program.py', 'stderr.txt'], os.listdir('.')\n"
        "assert 'HTTPS_PROXY' not in os.environ and 'SLM_LSP_SECRET' not in os.environ\n"
    )
    assert run_program(program).status == "passed"


def test_no_network() -> None:
    if not network_isolation():
        pytest.skip("unshare is not available here: programs run with the host network")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]  # reachable from this process: the kernel accepts into the backlog
    try:
        result = run_program(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n")
    finally:
        server.close()
    assert result.status == "failed" and "Error" in result.detail


def test_programs_run_in_parallel_and_keep_their_order() -> None:
    programs = ["import time\ntime.sleep(1)\n", "assert False\n", "import time\ntime.sleep(1)\n"]
    started = time.perf_counter()
    results = list(run_programs(programs, jobs=3))
    assert [r.status for r in results] == ["passed", "failed", "passed"]
    assert time.perf_counter() - started < 2.5  # sequentially it would take over 2 s
