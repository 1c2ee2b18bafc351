"""The bot started exactly as docs/deployment.md's App Service startup command starts it.

``sh startup.sh`` with App Service's environment (no HOST, a PORT, a fresh persistent folder for the
data, the demo data off): ``/healthz`` and ``/readyz`` answer, a first message gets a reply, the data
folder is created where App Service keeps files, it holds no demo organization, and SIGTERM (what App
Service sends on a restart) stops it cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests._common.fake_connector import FakeConnector
from tests._common.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_the_app_service_startup_command_serves_a_first_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PORT": str(port), "HOME": str(home),
           "DATA_DIR": str(home / "data" / "partner-benefits"), "WEBSITE_SITE_NAME": "contoso-benefits"}
    connector = FakeConnector().start()
    log = (tmp_path / "bot.log").open("wb")
    proc = subprocess.Popen(["sh", str(ROOT / "startup.sh")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            try:
                if _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/readyz")[0] == 200
        activity = {
            "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": connector.url,
            "from": {"id": "29:first-admin", "name": "First Admin", "aadObjectId": str(uuid.uuid4())},
            "recipient": {"id": "28:bot", "name": "Partner Benefits"}, "text": "help", "locale": "en-US",
            "conversation": {"id": "a:first", "conversationType": "personal", "tenantId": "t1"},
            "channelData": {"tenant": {"id": "t1"}},
        }
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/messages", json.dumps(activity).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as resp:
            assert resp.status in (200, 201)
        assert connector.wait_for(1), "the first turn got no reply"
        data = home / "data" / "partner-benefits"
        assert data.is_dir() and any(data.iterdir())
        assert "Contoso" not in "".join(p.read_text(errors="replace") for p in data.glob("benefits*") if p.is_file())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        connector.stop()
