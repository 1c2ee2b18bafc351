"""Offline validation of the app package against the official Teams schemas.

The Teams Toolkit CLIs fetch the schema from the internet and try to sign in, so they cannot check a
package offline. npm ``@microsoft/app-manifest`` ships every manifest schema (draft-04, no remote
refs), and ``jsonschema`` checks against it in a fraction of a second: ``make package`` refuses to
write a package Teams would reject, and the tests fail on any schema error.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from manifest.build import MANIFEST_VERSION

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_ROOT = REPO_ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"

NO_SCHEMA = (
    "The Teams manifest schema v{version} is not in {path}; run `make node-deps` (npm ci) to install "
    "@microsoft/app-manifest."
)


class SchemaUnavailable(RuntimeError):
    """The npm package with the schemas (or the Python ``jsonschema``) is not installed."""


def schema_path(kind: str = "MicrosoftTeams", version: str = MANIFEST_VERSION) -> Path:
    """Path of ``<kind>.schema.json`` (``MicrosoftTeams`` or ``MicrosoftTeams.Localization``)."""
    return SCHEMAS_ROOT / f"v{version}" / f"{kind}.schema.json"


@cache
def _validator(kind: str, version: str) -> Any:
    path = schema_path(kind, version)
    if not path.is_file():
        raise SchemaUnavailable(NO_SCHEMA.format(version=version, path=path.parent))
    try:
        from jsonschema import Draft4Validator
    except ImportError as error:  # jsonschema is a dev dependency; `make package` installs it
        raise SchemaUnavailable("the Python package jsonschema is not installed (make dev-deps)") from error
    schema = json.loads(path.read_text(encoding="utf-8"))
    # From v1.23 on one pattern uses \p{L}, which is not a Python regex: check_schema would fail on it
    # although the schema is fine, and the pattern only applies to Office add-in custom functions.
    if tuple(int(part) for part in version.split(".")) < (1, 23):
        Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def _problems(kind: str, document: dict[str, Any], version: str) -> list[str]:
    validator = _validator(kind, version)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def manifest_problems(manifest: dict[str, Any], version: str = MANIFEST_VERSION) -> list[str]:
    """Schema errors of ``manifest.json`` (empty when valid)."""
    return _problems("MicrosoftTeams", manifest, version)


def language_file_problems(language_file: dict[str, Any], version: str = MANIFEST_VERSION) -> list[str]:
    """Schema errors of one localization file (empty when valid)."""
    return _problems("MicrosoftTeams.Localization", language_file, version)
