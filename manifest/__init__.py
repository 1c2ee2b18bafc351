"""The Teams app package of Partner Benefits Bot.

Teams learns about the bot only through an app package: ``manifest.json`` plus two icons and the
language files. Every id and host name in it depends on the tenant's own Entra app registration and
on the public host of the bot, so nothing here is edited by hand: ``manifest.template.json`` holds the
structure with ``${{SETTING}}`` placeholders, ``locales/`` the zh-CN / zh-TW wording, and
``python -m manifest.package`` fills them from the environment (or ``.env``) into
``build/appPackage.zip``.
"""

from manifest.build import (
    MANIFEST_VERSION,
    build_language_files,
    build_manifest,
    command_aliases,
)
from manifest.settings import ManifestSettings, SettingsError

__all__ = [
    "MANIFEST_VERSION",
    "ManifestSettings",
    "SettingsError",
    "build_language_files",
    "build_manifest",
    "command_aliases",
]
