"""``python -m bot doctor``: a configuration checked before the first start, against a local Entra.

Good settings pass; each broken one fails with the setting and the portal path to fix it. The online
checks ask the local identity endpoint for real tokens through msal, as the bot would.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.doctor import diagnose, msal_acquirer
from bot.settings import Settings
from manifest.package import write_package
from manifest.settings import ManifestSettings
from tests._common.fake_identity import APP_ID, FakeIdentity

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "bot.contoso.example"


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity().start()
    yield fake
    fake.stop()


def good_env(identity: FakeIdentity, data_dir: Path, **more: str) -> dict[str, str]:
    env = identity.settings(BOT_DOMAIN=DOMAIN, SSO_CONNECTION_NAME="TeamsSSO", SEED_DEMO="false",
                            DATA_DIR=str(data_dir), GRAPH_ENABLED="true")
    env["MicrosoftAppTenantId"] = "0f0e0d0c-0000-4000-8000-000000000001"
    env.update(more)
    return env


def run(env: dict[str, str], tmp_path: Path, *, online: bool = True, endpoint: str = "",
        package: Path | None = None) -> dict[str, str]:
    settings = Settings.from_mapping(env)
    found = diagnose(env, endpoint=endpoint or f"https://{DOMAIN}/api/messages",
                     package_zip=package or tmp_path / "none.zip",
                     acquire=msal_acquirer(settings) if online else None)
    return {f.check: f"{f.level}: {f.message} | {f.fix}" for f in found}


def test_good_settings_pass_every_check(identity: FakeIdentity, tmp_path: Path) -> None:
    env = good_env(identity, tmp_path / "data")
    package = write_package(ManifestSettings.from_mapping(env), tmp_path / "appPackage.zip", validate=False)
    found = run(env, tmp_path, package=package)
    assert [k for k, v in found.items() if not v.startswith("ok")] == []
    assert "Graph: people and company emails" in found
    scopes = [r.get("scope", "") for r in identity.token_requests]
    assert any("api.botframework.com/.default" in s for s in scopes)
    assert any("graph.microsoft.com/.default" in s for s in scopes)


@pytest.mark.parametrize(("change", "check", "words"), [
    ({"MicrosoftAppId": "my-bot"}, "MicrosoftAppId", "not a GUID"),
    ({"MicrosoftAppTenantId": "contoso"}, "MicrosoftAppTenantId", "GUID"),
    ({"MicrosoftAppPassword": ""}, "MicrosoftAppPassword", "Certificates & secrets"),
    ({"MicrosoftAppPassword": "wrong"}, "Entra sign-in", "AADSTS7000215"),
    ({"BOT_DOMAIN": ""}, "app package settings", "BOT_DOMAIN is not set"),
    ({"SSO_CONNECTION_NAME": ""}, "SSO_CONNECTION_NAME", "Add OAuth Connection Settings"),
    ({"SEED_DEMO": "true"}, "SEED_DEMO", "demo data"),
])
def test_each_broken_setting_is_named_with_its_fix(identity: FakeIdentity, tmp_path: Path, change: dict[str, str],
                                                  check: str, words: str) -> None:
    found = run(good_env(identity, tmp_path / "data", **change), tmp_path)
    assert check in found, found
    assert not found[check].startswith("ok") and words in found[check]


def test_an_expired_secret_is_told_apart_from_a_wrong_one(identity: FakeIdentity, tmp_path: Path) -> None:
    identity.secret_expired = True
    found = run(good_env(identity, tmp_path / "data"), tmp_path)
    assert found["Entra sign-in"].startswith("fail: the client secret has expired (AADSTS7000222)")
    assert "New client secret" in found["Entra sign-in"]


def test_a_missing_graph_permission_is_named(identity: FakeIdentity, tmp_path: Path) -> None:
    identity.granted = ["User.Read.All"]
    found = run(good_env(identity, tmp_path / "data"), tmp_path)
    assert found["Graph: people and company emails"].startswith("ok")
    assert found["Graph: Entra Global Administrators"].startswith("fail: missing application permission "
                                                                  "RoleManagement.Read.Directory")
    assert "Grant admin consent" in found["Graph: Entra Global Administrators"]
    assert found["Graph: proactive install"].startswith("warn: missing application permission "
                                                        "TeamsAppInstallation.ReadWriteSelfForUser.All")


@pytest.mark.parametrize(("endpoint", "words"), [
    ("https://other.contoso.example/api/messages", "is not BOT_DOMAIN"),
    (f"http://{DOMAIN}/api/messages", "https://"),
    (f"https://{DOMAIN}/messages", "/api/messages"),
])
def test_the_messaging_endpoint_must_be_the_bot_domain(identity: FakeIdentity, tmp_path: Path, endpoint: str,
                                                       words: str) -> None:
    found = run(good_env(identity, tmp_path / "data"), tmp_path, online=False, endpoint=endpoint)
    assert found["messaging endpoint"].startswith("fail") and words in found["messaging endpoint"]


def test_a_package_built_for_other_settings_is_stale(identity: FakeIdentity, tmp_path: Path) -> None:
    env = good_env(identity, tmp_path / "data")
    old = write_package(ManifestSettings.from_mapping({**env, "BOT_DOMAIN": "old-3978.euw.devtunnels.ms"}),
                        tmp_path / "appPackage.zip", validate=False)
    found = run(env, tmp_path, online=False, package=old)
    assert found["app package"].startswith("fail") and "validDomains lacks" in found["app package"]
    assert "make package" in found["app package"]


def test_the_cli_exits_nonzero_on_a_failure_and_prints_no_secret(identity: FakeIdentity, tmp_path: Path) -> None:
    env = good_env(identity, tmp_path / "data", MicrosoftAppPassword="wrong-secret-value-123")
    done = subprocess.run([sys.executable, "-m", "bot", "doctor", "--online", "--package", str(tmp_path / "x.zip"),
                           "--messaging-endpoint", f"https://{DOMAIN}/api/messages"],
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[FAIL] Entra sign-in: the client secret is wrong" in done.stdout
    assert "wrong-secret-value-123" not in done.stdout + done.stderr
    assert APP_ID in done.stdout or "a GUID" in done.stdout
