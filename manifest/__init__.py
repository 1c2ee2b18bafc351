"""The Teams app package of Partner Benefits Bot.

Teams learns about the bot only through an app package: ``manifest.json`` plus two icons and the
language files. Every id and host name in it depends on the tenant's own Entra app registration and
on the public host of the bot, so nothing here is edited by hand: ``manifest.template.json`` holds the
structure with ``${{SETTING}}`` placeholders, ``locales/`` the zh-CN / zh-TW wording, and
``python -m manifest.package`` fills them from the environment (or ``.env``) into
``build/appPackage.zip``.

Deliberately absent: an ``authorization`` block of resource-specific consent (RSC) permissions. The
bot reads people and directory roles through tenant-wide Graph application permissions granted once
by an admin (docs/deployment.md), and it answers only when addressed, so per-team RSC such as
``ChannelMessage.Read.Group`` would add a consent prompt to every installation for no feature.
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
