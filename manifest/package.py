"""``python -m manifest.package``: build the Teams app package ``build/appPackage.zip``.

What ``make package`` runs. It reads the settings from the environment or ``.env``, fills the
manifest template, checks the result against the official schema offline, and writes a zip with
``manifest.json``, the icons and the language files at its root, ready for "Upload a custom app" or
the Teams admin center. It prints every value it used, so that a wrong id is seen before the upload.
The zip is byte-for-byte reproducible (fixed timestamps and order): the same settings give the same
file.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from manifest.build import HERE, build_language_files, build_manifest
from manifest.settings import ManifestSettings, SettingsError
from manifest.validate import REPO_ROOT, SchemaUnavailable, language_file_problems, manifest_problems

DEFAULT_OUT = REPO_ROOT / "build" / "appPackage.zip"
ICONS = ("color.png", "outline.png")
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)

INVALID_PACKAGE = "The app package does not match the Teams schema; nothing was written:"


class PackageError(RuntimeError):
    """The package would be invalid; ``str()`` lists the problems."""


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def package_files(settings: ManifestSettings) -> dict[str, bytes]:
    """Every file of the package by its name at the zip root, in zip order."""
    files = {"manifest.json": _json_bytes(build_manifest(settings))}
    for icon in ICONS:
        files[icon] = (HERE / icon).read_bytes()
    for name, document in build_language_files(settings).items():
        files[name] = _json_bytes(document)
    return files


def check_files(files: dict[str, bytes]) -> list[str]:
    """Schema problems of the manifest and the language files, each prefixed with its file name."""
    problems = [f"manifest.json: {p}" for p in manifest_problems(json.loads(files["manifest.json"]))]
    for name, data in files.items():
        if name.endswith(".json") and name != "manifest.json":
            problems += [f"{name}: {p}" for p in language_file_problems(json.loads(data))]
    return problems


def write_package(settings: ManifestSettings, out: Path, validate: bool = True) -> Path:
    """Write the app package for ``settings`` to ``out`` and return ``out``.

    Raises:
        PackageError: ``validate`` is on and the manifest or a language file breaks its schema.
        SchemaUnavailable: ``validate`` is on and the schemas are not installed.
    """
    files = package_files(settings)
    if validate:
        problems = check_files(files)
        if problems:
            raise PackageError("\n  ".join([INVALID_PACKAGE, *problems]))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    tmp.replace(out)
    return out


def describe(settings: ManifestSettings) -> list[str]:
    """The lines the CLI prints: each value, and whether it was a default."""
    shown = [
        ("MicrosoftAppId", settings.app_id),
        ("TEAMS_APP_ID", settings.teams_app_id),
        ("BOT_DOMAIN", settings.bot_domain),
        ("BOT_NAME", settings.bot_name),
        ("DEVELOPER_NAME", settings.developer_name),
        ("DEVELOPER_WEBSITE", settings.developer_website),
        ("PRIVACY_URL", settings.privacy_url),
        ("TERMS_URL", settings.terms_url),
        ("APP_VERSION", settings.app_version),
    ]
    width = max(len(name) for name, _ in shown)
    lines = []
    for name, value in shown:
        note = ""
        if name in settings.defaulted:
            note = "  (derived from MicrosoftAppId)" if name == "TEAMS_APP_ID" else "  (default)"
        lines.append(f"  {name:<{width}}  {value}{note}")
    lines.append(f"  {'SSO resource':<{width}}  {settings.sso_resource}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Build the package; return the process exit code (0 ok, 2 bad settings, 1 invalid package)."""
    parser = argparse.ArgumentParser(prog="python -m manifest.package", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"zip to write (default {DEFAULT_OUT})")
    parser.add_argument("--env-file", type=Path, default=None, help="settings file (default: repo .env)")
    parser.add_argument(
        "--no-validate", action="store_true", help="skip the schema check (when node_modules is missing)"
    )
    args = parser.parse_args(argv)
    try:
        settings = ManifestSettings.from_env(dotenv_path=args.env_file)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        out = write_package(settings, args.out, validate=not args.no_validate)
    except (PackageError, SchemaUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Teams app package written to {out.resolve()}")
    print("Values used:")
    print("\n".join(describe(settings)))
    print("Upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams admin center.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
