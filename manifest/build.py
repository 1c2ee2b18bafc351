"""Fill the manifest template and write the language files of the app package.

Why a template plus a builder: ids and host names differ per tenant and must never be typed into the
manifest by hand, and the Teams localization format addresses command titles by position
(``bots[0].commandLists[1].commands[3].title``), which breaks silently when someone reorders the
command menu. The zh-CN / zh-TW sources therefore key each command by its English title, and the
builder computes the positional keys from the template.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from manifest.settings import DEFAULT_BOT_NAME, ManifestSettings

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "manifest.template.json"
LOCALES_DIR = HERE / "locales"

#: Newest manifest schema shipped by @microsoft/app-manifest that the package validates against.
MANIFEST_VERSION = "1.30"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json"
)

#: Language files of the package: language tag in the manifest -> file name at the zip root.
LANGUAGE_FILES = {"zh-cn": "zh-CN.json", "zh-tw": "zh-TW.json"}

#: Every command the bot understands, by its English title. The menus of the template show at most
#: 10 per scope (the limit of the Teams command menu), the others are typed (``help`` lists them).
ALL_COMMANDS = (
    "help",
    "overview",
    "my benefits",
    "software",
    "cloud",
    "visual studio",
    "technical",
    "go-to-market",
    "marketing contact",
    "cancel",
    "users",
    "request",
    "language",
    "notifications",
)

_PLACEHOLDER = re.compile(r"\$\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")

UNKNOWN_PLACEHOLDER = "{where} uses ${{{{{name}}}}}, which is not a setting the package knows."
UNKNOWN_COMMAND = "manifest.template.json lists the command {title!r}, which is not in ALL_COMMANDS."
MISSING_TRANSLATION = "{file} has no translation for the command {title!r}."
UNUSED_TRANSLATION = "{file} translates {title!r}, which is not in ALL_COMMANDS."


def _substitute(value: Any, values: dict[str, str], where: str) -> Any:
    """Replace ``${{NAME}}`` in every string of ``value`` (after JSON parsing, so no escaping issues)."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise KeyError(UNKNOWN_PLACEHOLDER.format(where=where, name=name))
            return values[name]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [_substitute(item, values, where) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, values, where) for key, item in value.items()}
    return value


def load_template() -> dict[str, Any]:
    """The manifest template with its placeholders still in place."""
    template: dict[str, Any] = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    return template


def build_manifest(settings: ManifestSettings) -> dict[str, Any]:
    """``manifest.json`` for ``settings``."""
    manifest: dict[str, Any] = _substitute(load_template(), settings.placeholders(), TEMPLATE.name)
    manifest["$schema"] = SCHEMA_URL
    manifest["manifestVersion"] = MANIFEST_VERSION
    return manifest


def _load_locale_source(file_name: str) -> dict[str, Any]:
    source: dict[str, Any] = json.loads((LOCALES_DIR / file_name).read_text(encoding="utf-8"))
    return source


def build_language_files(settings: ManifestSettings) -> dict[str, dict[str, Any]]:
    """The language files of the package, by file name (``zh-CN.json``, ``zh-TW.json``).

    The localized app name is used only while ``BOT_NAME`` keeps its default: a partner that renamed
    the bot gets its own name in every language.

    Raises:
        ValueError: a command of the template lacks a translation, or a translation has no command.
    """
    template = load_template()
    command_lists = template["bots"][0]["commandLists"]
    files: dict[str, dict[str, Any]] = {}
    for file_name in LANGUAGE_FILES.values():
        source = _load_locale_source(file_name)
        display_name = source["name.short"] if settings.bot_name == DEFAULT_BOT_NAME else settings.bot_name
        values = {**settings.placeholders(), "BOT_NAME": display_name}
        translations: dict[str, dict[str, str]] = source["commands"]
        out: dict[str, Any] = {"$schema": LOCALIZATION_SCHEMA_URL}
        for key in ("name.short", "name.full", "description.short", "description.full"):
            out[key] = display_name if key == "name.short" else _substitute(source[key], values, file_name)
        for title in ALL_COMMANDS:
            if title not in translations:
                raise ValueError(MISSING_TRANSLATION.format(file=file_name, title=title))
        for title in translations:
            if title not in ALL_COMMANDS:
                raise ValueError(UNUSED_TRANSLATION.format(file=file_name, title=title))
        for i, command_list in enumerate(command_lists):
            for j, command in enumerate(command_list["commands"]):
                title = command["title"]
                if title not in ALL_COMMANDS:
                    raise ValueError(UNKNOWN_COMMAND.format(title=title))
                prefix = f"bots[0].commandLists[{i}].commands[{j}]"
                out[f"{prefix}.title"] = translations[title]["title"]
                out[f"{prefix}.description"] = translations[title]["description"]
        files[file_name] = out
    return files


def command_aliases() -> dict[str, str]:
    """Every command title people may send, in any language, casefolded -> the English command.

    Teams sends the *localized* title when a zh-CN or zh-TW user picks a command from the menu, so the
    bot's command table must accept these aliases, e.g. ``"软件" -> "software"``.
    """
    aliases: dict[str, str] = {title.casefold(): title for title in ALL_COMMANDS}
    for file_name in LANGUAGE_FILES.values():
        for english, translation in _load_locale_source(file_name)["commands"].items():
            aliases[translation["title"].casefold()] = english
    return aliases
