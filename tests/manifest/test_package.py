"""The Teams app package: schema-valid offline, complete, localized, and refused when misconfigured.

A package that breaks the schema is rejected by Teams only at upload time, in the tenant, with a
vague message; these tests catch it on every `make test` with the official schemas from npm
``@microsoft/app-manifest`` (no network). The icons are checked the way Teams checks them: sizes from
the PNG header, and an outline that is white on transparency.
"""

from __future__ import annotations

import json
import struct
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from manifest import MANIFEST_VERSION, command_aliases
from manifest import package as package_module
from manifest.build import ALL_COMMANDS, build_manifest
from manifest.package import PackageError, main, write_package
from manifest.settings import TEAMS_APP_ID_NAMESPACE, ManifestSettings, SettingsError

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
SETTING_NAMES = (
    "MicrosoftAppId",
    "TEAMS_APP_ID",
    "BOT_DOMAIN",
    "BOT_NAME",
    "DEVELOPER_NAME",
    "DEVELOPER_WEBSITE",
    "PRIVACY_URL",
    "TERMS_URL",
    "APP_VERSION",
)
APP_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
TEST_ENV = {
    "MicrosoftAppId": APP_ID,
    "BOT_DOMAIN": "pbb-3978.euw.devtunnels.ms",
    "DEVELOPER_NAME": "Contoso Partner Ops",
    "DEVELOPER_WEBSITE": "https://contoso.example/partner-benefits",
    "PRIVACY_URL": "https://contoso.example/privacy",
    "TERMS_URL": "https://contoso.example/terms",
    "APP_VERSION": "1.2.3",
}
PACKAGE_FILES = ["manifest.json", "color.png", "outline.png", "zh-CN.json", "zh-TW.json"]


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own environment must not leak into the tests."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def _write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def _validator(schema_file: str) -> Draft4Validator:
    path = SCHEMAS / f"v{MANIFEST_VERSION}" / schema_file
    assert path.is_file(), f"{path} is missing: run `make node-deps` (npm ci) first"
    schema = json.loads(path.read_text(encoding="utf-8"))
    # check_schema is skipped on purpose: from v1.23 one pattern uses \p{L}, not a Python regex.
    return Draft4Validator(schema)


def _schema_errors(validator: Draft4Validator, document: dict[str, Any]) -> list[str]:
    errors = validator.iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


@pytest.fixture
def package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, bytes]:
    env_file = _write_env(tmp_path / ".env", TEST_ENV)
    out = tmp_path / "build" / "appPackage.zip"
    assert main(["--out", str(out), "--env-file", str(env_file)]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and APP_ID in printed and "pbb-3978.euw.devtunnels.ms" in printed
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def test_zip_holds_exactly_the_package_files_at_its_root(package: dict[str, bytes]) -> None:
    assert sorted(package) == sorted(PACKAGE_FILES)


def test_manifest_matches_the_official_schema(package: dict[str, bytes]) -> None:
    manifest = json.loads(package["manifest.json"])
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    assert tuple(map(int, MANIFEST_VERSION.split("."))) >= (1, 22)
    assert _schema_errors(_validator("MicrosoftTeams.schema.json"), manifest) == []


@pytest.mark.parametrize("file_name", ["zh-CN.json", "zh-TW.json"])
def test_language_files_match_the_localization_schema(package: dict[str, bytes], file_name: str) -> None:
    language_file = json.loads(package[file_name])
    assert _schema_errors(_validator("MicrosoftTeams.Localization.schema.json"), language_file) == []


def test_manifest_carries_the_configured_ids_and_sso(package: dict[str, bytes]) -> None:
    manifest = json.loads(package["manifest.json"])
    assert "${{" not in package["manifest.json"].decode()
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["id"] == str(uuid.uuid5(TEAMS_APP_ID_NAMESPACE, APP_ID))
    assert manifest["version"] == "1.2.3"
    assert manifest["webApplicationInfo"] == {
        "id": APP_ID,
        "resource": f"api://botid-{APP_ID}",
    }
    assert manifest["validDomains"] == ["pbb-3978.euw.devtunnels.ms", "token.botframework.com"]
    assert sorted(manifest["permissions"]) == ["identity", "messageTeamMembers"]
    assert manifest["developer"]["name"] == "Contoso Partner Ops"
    assert manifest["developer"]["privacyUrl"] == "https://contoso.example/privacy"
    additional = manifest["localizationInfo"]["additionalLanguages"]
    languages = {entry["languageTag"]: entry["file"] for entry in additional}
    assert manifest["localizationInfo"]["defaultLanguageTag"].lower() == "en-us"
    assert languages == {"zh-cn": "zh-CN.json", "zh-tw": "zh-TW.json"}


def test_bot_has_a_command_menu_of_at_most_ten_per_scope(package: dict[str, bytes]) -> None:
    bot = json.loads(package["manifest.json"])["bots"][0]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    menus = {scope: cl["commands"] for cl in bot["commandLists"] for scope in cl["scopes"]}
    assert sorted(menus) == ["groupChat", "personal", "team"]
    for scope, commands in menus.items():
        titles = [c["title"] for c in commands]
        assert 0 < len(titles) <= 10, scope
        assert len(set(titles)) == len(titles), scope
        assert titles[0] == "help", scope
        assert set(titles) <= set(ALL_COMMANDS), scope
        assert all(c.get("description") for c in commands), scope
    shown = {c["title"] for commands in menus.values() for c in commands}
    assert "my benefits" in {c["title"] for c in menus["personal"]}
    assert {"notifications", "users", "marketing contact"} <= {c["title"] for c in menus["team"]}
    assert set(ALL_COMMANDS) - shown <= {"cancel"}


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("zh-CN.json", {"software": "软件", "go-to-market": "市场投放", "technical": "技术权益"}),
        ("zh-TW.json", {"software": "軟體", "go-to-market": "進入市場", "technical": "技術權益"}),
    ],
)
def test_every_menu_command_is_localized_in_partner_center_wording(
    package: dict[str, bytes], file_name: str, expected: dict[str, str]
) -> None:
    manifest = json.loads(package["manifest.json"])
    language_file = json.loads(package[file_name])
    found: dict[str, str] = {}
    for i, command_list in enumerate(manifest["bots"][0]["commandLists"]):
        for j, command in enumerate(command_list["commands"]):
            title = language_file[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert language_file[f"bots[0].commandLists[{i}].commands[{j}].description"]
            found[command["title"]] = title
    for english, localized in expected.items():
        assert found[english] == localized
    member_benefits = "会员权益" if file_name == "zh-CN.json" else "會員資格權益"
    program = "Microsoft AI 云合作伙伴计划" if file_name == "zh-CN.json" else "Microsoft AI 雲端合作夥伴計劃"
    former = "合作伙伴网络" if file_name == "zh-CN.json" else "合作夥伴網路"
    assert member_benefits in language_file["description.full"]
    assert program in language_file["description.short"] and former in language_file["description.full"]


def test_localized_command_titles_map_back_to_commands() -> None:
    aliases = command_aliases()
    assert aliases["软件"] == "software"
    assert aliases["軟體"] == "software"
    assert aliases["visual studio 訂閱"] == "visual studio"
    assert aliases["go-to-market"] == "go-to-market"
    assert set(aliases.values()) == set(ALL_COMMANDS)


def test_icons_have_the_sizes_and_colours_teams_requires(package: dict[str, bytes], tmp_path: Path) -> None:
    assert _png_header(package["color.png"])[:2] == (192, 192)
    width, height, depth, colour = _png_header(package["outline.png"])
    assert (width, height) == (32, 32)
    has_alpha = colour in (4, 6) or b"tRNS" in package["outline.png"]
    assert has_alpha, "outline.png needs an alpha channel (transparent background)"
    (tmp_path / "outline.png").write_bytes(package["outline.png"])
    with Image.open(tmp_path / "outline.png") as image:
        pixels = list(image.convert("RGBA").getdata())
    off_white = {p for p in pixels if p[3] > 0 and p[:3] != (255, 255, 255)}
    assert not off_white, f"outline.png has non-white visible pixels: {sorted(off_white)[:5]}"
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_a_renamed_bot_keeps_its_name_in_every_language(tmp_path: Path) -> None:
    env_file = _write_env(tmp_path / ".env", {**TEST_ENV, "BOT_NAME": "Contoso Benefits"})
    out = tmp_path / "app.zip"
    assert main(["--out", str(out), "--env-file", str(env_file)]) == 0
    with zipfile.ZipFile(out) as archive:
        for name in ("zh-CN.json", "zh-TW.json"):
            language_file = json.loads(archive.read(name))
            assert language_file["name.short"] == "Contoso Benefits"
            assert "Contoso Benefits" in language_file["description.full"]


def test_the_package_is_reproducible(tmp_path: Path) -> None:
    env_file = _write_env(tmp_path / ".env", TEST_ENV)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert main(["--out", str(first), "--env-file", str(env_file)]) == 0
    assert main(["--out", str(second), "--env-file", str(env_file)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_missing_app_id_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = _write_env(tmp_path / ".env", {k: v for k, v in TEST_ENV.items() if k != "MicrosoftAppId"})
    out = tmp_path / "app.zip"
    assert main(["--out", str(out), "--env-file", str(env_file)]) != 0
    error = capsys.readouterr().err
    assert "MicrosoftAppId is not set" in error
    assert ".env" in error and "Application (client) ID" in error
    assert not out.exists()


def test_missing_bot_domain_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = _write_env(tmp_path / ".env", {k: v for k, v in TEST_ENV.items() if k != "BOT_DOMAIN"})
    assert main(["--out", str(tmp_path / "app.zip"), "--env-file", str(env_file)]) != 0
    assert "BOT_DOMAIN is not set" in capsys.readouterr().err


def test_environment_overrides_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = _write_env(tmp_path / ".env", TEST_ENV)
    monkeypatch.setenv("APP_VERSION", "2.0.0")
    assert ManifestSettings.from_env(dotenv_path=env_file).app_version == "2.0.0"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MicrosoftAppId", "my-bot", "MicrosoftAppId must be a GUID"),
        ("TEAMS_APP_ID", "not-a-guid", "TEAMS_APP_ID must be a GUID"),
        ("BOT_DOMAIN", "https://bot.contoso.com:8443/x", "BOT_DOMAIN must be a host name"),
        ("APP_VERSION", "1.0", "APP_VERSION must be MAJOR.MINOR.PATCH"),
        ("PRIVACY_URL", "http://contoso.example/privacy", "PRIVACY_URL must be an https:// URL"),
        ("BOT_NAME", "A bot name that is much longer than thirty", "BOT_NAME is at most 30"),
        ("BOT_TOKEN_SERVICE_REGION", "mars", "BOT_TOKEN_SERVICE_REGION must be empty"),
    ],
)
def test_malformed_settings_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ManifestSettings.from_mapping({**TEST_ENV, name: value})


@pytest.mark.parametrize(("region", "host"), [("europe", "europe.token.botframework.com"),
                                            ("India", "india.token.botframework.com")])
def test_a_regional_bot_allows_its_regional_token_service(region: str, host: str) -> None:
    settings = ManifestSettings.from_mapping({**TEST_ENV, "BOT_TOKEN_SERVICE_REGION": region})
    manifest = build_manifest(settings)
    assert manifest["validDomains"] == ["pbb-3978.euw.devtunnels.ms", host]


@pytest.mark.parametrize(
    "raw", ["pbb.contoso.com", "https://pbb.contoso.com", "https://PBB.contoso.com/api/messages"]
)
def test_bot_domain_accepts_a_pasted_url(raw: str) -> None:
    assert ManifestSettings.from_mapping({**TEST_ENV, "BOT_DOMAIN": raw}).bot_domain == "pbb.contoso.com"


def test_a_manifest_that_breaks_the_schema_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build = package_module.build_manifest

    def broken(settings: ManifestSettings) -> dict[str, Any]:
        return {**real_build(settings), "botz": [], "accentColor": "blue"}

    monkeypatch.setattr(package_module, "build_manifest", broken)
    out = tmp_path / "app.zip"
    with pytest.raises(PackageError) as raised:
        write_package(ManifestSettings.from_mapping(TEST_ENV), out)
    assert "accentColor" in str(raised.value) and "botz" in str(raised.value)
    assert not out.exists()


def test_an_empty_environment_variable_does_not_blank_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = _write_env(tmp_path / ".env", TEST_ENV)
    monkeypatch.setenv("BOT_DOMAIN", "")
    assert ManifestSettings.from_env(dotenv_path=env_file).bot_domain == "pbb-3978.euw.devtunnels.ms"


def test_checked_in_icons_are_what_draw_icons_draws() -> None:
    from manifest import draw_icons

    for name, image in (("color.png", draw_icons.draw_color()), ("outline.png", draw_icons.draw_outline())):
        with Image.open(REPO / "manifest" / name) as stored:
            assert stored.convert("RGBA").tobytes() == image.convert("RGBA").tobytes(), (
                f"manifest/{name} is stale: run `python -m manifest.draw_icons`"
            )
