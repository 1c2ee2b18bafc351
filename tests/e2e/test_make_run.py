"""``make run`` (``python -m bot dev``): the bot and the Playground come up together and stop together."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT, _get, free_port

pytestmark = pytest.mark.e2e


def _until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_dev_starts_both_and_one_signal_stops_both(tmp_path: Path, stop: signal.Signals) -> None:
    bot_port, playground_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(bot_port), "PLAYGROUND_PORT": str(playground_port),
           "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "dev"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        banner = f"Open http://localhost:{playground_port}"
        assert _until(lambda: any(banner in line for line in lines), 60), f"no banner: {lines}"
        assert _get(f"http://127.0.0.1:{playground_port}/_debug/ping") == "pong"
        assert "up" in (_get(f"http://127.0.0.1:{bot_port}/healthz") or "")
        proc.send_signal(stop)  # only the dev process: it must stop its children itself
        proc.wait(timeout=30)
        assert _until(lambda: _get(f"http://127.0.0.1:{bot_port}/healthz") is None
                      and _get(f"http://127.0.0.1:{playground_port}/_debug/ping") is None, 15), "a child survived"
        reader.join(10)
        assert "Traceback" not in "".join(lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_dev_as_a_demo_person_starts_the_playground_as_them(tmp_path: Path) -> None:
    """``make run AS=leeg@contoso.com``: the Playground accepts the written config and chats as Lee."""
    bot_port, playground_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(bot_port), "PLAYGROUND_PORT": str(playground_port),
           "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "dev", "--as", "leeg@contoso.com"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        assert _until(lambda: any("as Lee Gu" in line for line in lines), 60), f"no banner: {lines}"
        config = json.loads(_get(f"http://127.0.0.1:{playground_port}/_internal/v1/testConfig") or "{}")["config"]
        assert config["currentUser"]["id"] == "29:1-lee-gu", config
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_dev_as_nobody_known_says_who_there_is(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "dev", "--as", "mallory@example.com"], cwd=ROOT,
                            env={**os.environ, "DATA_DIR": str(tmp_path / "data")}, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and "Lee Gu (leeg@contoso.com)" in result.stderr


@pytest.mark.parametrize(("given", "expected"), [({}, "-m bot dev"),
                                                 ({"AS": "leeg@contoso.com"}, '-m bot dev --as "leeg@contoso.com"')],
                         ids=["nobody-named", "a-demo-person"])
def test_make_run_names_a_person_only_when_asked(given: dict[str, str], expected: str) -> None:
    """AS is also make's built-in name of the assembler (``as``): a plain ``make run`` once asked the
    Playground to chat as a person called "as" and refused to start."""
    # run under `make test` too: the outer make's flags and level are not this make's
    env = {k: v for k, v in os.environ.items() if k not in ("AS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "--no-print-directory", "-n", "run", *(f"{k}={v}" for k, v in given.items())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert [line.rstrip() for line in result.stdout.splitlines() if "-m bot dev" in line] == [
        f".venv/bin/python {expected}"], result.stdout
