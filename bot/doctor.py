"""``python -m bot doctor`` (``make doctor``): check a configuration before the first start in a tenant.

A wrong id, a secret that expired or a package built for another host uploads and starts without a
complaint and then fails silently inside Teams, where the admin sees nothing but a bot that does not
answer. The doctor reads the same settings as the bot and the app package and says, for each
problem, which setting is wrong and where in the Azure or Teams portals to fix it. With ``--online``
it also asks Entra for the bot's tokens (the secret is valid and not expired; the Graph application
permissions the enabled features need are granted), which is what the first start would do.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.auth import login_url
from bot.settings import Settings
from manifest.settings import ManifestSettings, SettingsError
from services.identity import graph_enabled
from services.identity.msal_app import MsalClients
from services.identity.permissions import FEATURE_PERMISSIONS, OPTIONAL_FEATURES

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
APP_REGISTRATION = "Azure portal > Microsoft Entra ID > App registrations > your bot"
AZURE_BOT = "Azure portal > your Azure Bot resource"
#: Entra error codes msal passes on in ``error_description``, and what they mean for the admin.
ENTRA_ERRORS = {
    "AADSTS7000222": ("the client secret has expired",
                      f"{APP_REGISTRATION} > Certificates & secrets > New client secret; put it in "
                      "MicrosoftAppPassword"),
    "AADSTS7000215": ("the client secret is wrong (not the secret's Value, or another app's)",
                      f"{APP_REGISTRATION} > Certificates & secrets: copy the Value (not the Secret ID) of a "
                      f"current secret into MicrosoftAppPassword"),
    "AADSTS700016": ("no app with this MicrosoftAppId exists in the tenant",
                     f"{APP_REGISTRATION} > Overview: Application (client) ID and Directory (tenant) ID"),
    "AADSTS90002": ("the tenant does not exist",
                    f"{APP_REGISTRATION} > Overview: Directory (tenant) ID into MicrosoftAppTenantId"),
}


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``level`` is ``ok``, ``warn`` or ``fail``; ``fix`` says where to fix it."""

    level: str
    check: str
    message: str
    fix: str = ""

    def line(self) -> str:
        mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.level]
        return f"[{mark}] {self.check}: {self.message}" + (f"\n         fix: {self.fix}" if self.fix else "")


def check_ids(settings: Settings) -> list[Finding]:
    if not settings.app_id:
        return [Finding("fail", "MicrosoftAppId", "not set: the bot would run with authentication off",
                        f"{APP_REGISTRATION} > Overview > Application (client) ID")]
    found = []
    if not GUID.match(settings.app_id):
        found.append(Finding("fail", "MicrosoftAppId", f"not a GUID: {settings.app_id[:60]!r}",
                             f"{APP_REGISTRATION} > Overview > Application (client) ID"))
    else:
        found.append(Finding("ok", "MicrosoftAppId", "a GUID"))
    if settings.app_type.lower() == "singletenant":
        if not GUID.match(settings.tenant_id):
            found.append(Finding("fail", "MicrosoftAppTenantId",
                                 "a single-tenant bot needs its tenant's GUID, got "
                                 f"{settings.tenant_id[:60]!r}" if settings.tenant_id else
                                 "a single-tenant bot needs its tenant's GUID; it is not set",
                                 f"{APP_REGISTRATION} > Overview > Directory (tenant) ID"))
        else:
            found.append(Finding("ok", "MicrosoftAppTenantId", "a GUID"))
    elif settings.app_type.lower() == "multitenant":
        found.append(Finding("warn", "MicrosoftAppType", "MultiTenant: new multi-tenant bot registrations are "
                             "deprecated; use SingleTenant", f"{AZURE_BOT} > Configuration > App type"))
    if not settings.app_password and settings.app_type.lower() != "userassignedmsi":
        found.append(Finding("fail", "MicrosoftAppPassword", "not set",
                             f"{APP_REGISTRATION} > Certificates & secrets > New client secret (its Value)"))
    elif settings.app_password:
        found.append(Finding("ok", "MicrosoftAppPassword", "set (not shown)"))
    return found


def check_endpoint(package: ManifestSettings | None, endpoint: str) -> list[Finding]:
    """The Azure Bot's messaging endpoint must be ``https://<BOT_DOMAIN>/api/messages``."""
    if not endpoint:
        return [Finding("warn", "messaging endpoint", "not given (--messaging-endpoint URL): not compared "
                        "with BOT_DOMAIN", f"{AZURE_BOT} > Configuration > Messaging endpoint")]
    parts = urlsplit(endpoint.strip())
    problems = []
    if parts.scheme != "https":
        problems.append("it must start with https://")
    if parts.path.rstrip("/") != "/api/messages":
        problems.append("its path must be /api/messages")
    if package is not None and (parts.hostname or "").lower() != package.bot_domain:
        problems.append(f"its host {parts.hostname!r} is not BOT_DOMAIN {package.bot_domain!r}")
    if problems:
        return [Finding("fail", "messaging endpoint", "; ".join(problems),
                        f"{AZURE_BOT} > Configuration > Messaging endpoint = https://<BOT_DOMAIN>/api/messages")]
    return [Finding("ok", "messaging endpoint", "https://<BOT_DOMAIN>/api/messages")]


def check_package(environ: dict[str, str], package_zip: Path) -> tuple[ManifestSettings | None, list[Finding]]:
    try:
        package = ManifestSettings.from_mapping(environ)
    except SettingsError as error:
        return None, [Finding("fail", "app package settings", str(error))]
    found = [Finding("ok", "app package settings", f"BOT_DOMAIN {package.bot_domain}, SSO resource "
                     f"{package.sso_resource}")]
    if not package_zip.is_file():
        found.append(Finding("warn", "app package", f"{package_zip} not built yet", "run `make package`"))
        return package, found
    try:
        with zipfile.ZipFile(package_zip) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        found.append(Finding("fail", "app package", f"{package_zip} is not a readable app package ({error})",
                             "run `make package` again"))
        return package, found
    expected = {
        "id": package.teams_app_id,
        "bots[0].botId": package.app_id,
        "webApplicationInfo.id": package.app_id,
        "webApplicationInfo.resource": package.sso_resource,
    }
    actual = {
        "id": manifest.get("id"),
        "bots[0].botId": (manifest.get("bots") or [{}])[0].get("botId"),
        "webApplicationInfo.id": (manifest.get("webApplicationInfo") or {}).get("id"),
        "webApplicationInfo.resource": (manifest.get("webApplicationInfo") or {}).get("resource"),
    }
    stale = [f"{k} is {actual[k]!r}, settings say {v!r}" for k, v in expected.items() if actual[k] != v]
    if package.bot_domain not in (manifest.get("validDomains") or []):
        stale.append(f"validDomains lacks {package.bot_domain!r}")
    if stale:
        found.append(Finding("fail", "app package", f"{package_zip} was built for other settings: " + "; ".join(stale),
                             "run `make package` and upload the new zip (raise APP_VERSION) in Teams admin "
                             "center > Teams apps > Manage apps"))
    else:
        found.append(Finding("ok", "app package", f"{package_zip} matches the settings"))
    return package, found


def check_sso(settings: Settings) -> list[Finding]:
    if settings.sso_connection_name:
        return [Finding("ok", "SSO_CONNECTION_NAME", f"{settings.sso_connection_name!r} (it must be the name of the "
                        "OAuth connection, and Test Connection must return a token)")]
    return [Finding("warn", "SSO_CONNECTION_NAME", "not set: revealing product keys and changing roles need no "
                    "fresh sign-in", f"{AZURE_BOT} > Configuration > Add OAuth Connection Settings; put its name in "
                    "SSO_CONNECTION_NAME")]


def check_service(settings: Settings) -> list[Finding]:
    found = []
    if settings.seed_demo:
        found.append(Finding("warn", "SEED_DEMO", "on: the Contoso demo data would be loaded into a new data folder",
                             "set SEED_DEMO=false for a real organization"))
    folder = settings.data_dir
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), Path("/"))
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".doctor-"):
            pass
        found.append(Finding("ok", "DATA_DIR", f"{folder} is writable" if existing == folder else
                             f"{folder} will be created in {existing}"))
    except OSError as error:
        found.append(Finding("fail", "DATA_DIR", f"{existing} is not writable: {error.strerror}",
                             "point DATA_DIR at a persistent, writable folder (App Service: under /home)"))
    for name, value in (("ACTIVATIONS_SECRET", settings.activations_secret), ("BACKUP_SECRET", settings.backup_secret)):
        if value and len(value) < 24:
            found.append(Finding("warn", name, "shorter than 24 characters", "use a long random value, e.g. "
                                 "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"))
    return found


def token_roles(access_token: str) -> set[str]:
    """The application permissions (``roles`` claim) in an Entra access token, read without checking it:
    the doctor only reports what Entra granted, it trusts nothing it reads."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return set()
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return {r for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()


def _entra_problem(result: dict[str, object]) -> Finding:
    description = str(result.get("error_description", ""))
    for code, (meaning, fix) in ENTRA_ERRORS.items():
        if code in description:
            return Finding("fail", "Entra sign-in", f"{meaning} ({code})", fix)
    return Finding("fail", "Entra sign-in", f"{result.get('error', 'error')}: {description[:160]}",
                   f"{APP_REGISTRATION}: check the ids and the secret")


def check_online(settings: Settings, acquire: Callable[[str], dict[str, object]]) -> list[Finding]:
    """Ask Entra for the bot's tokens; ``acquire(scope)`` returns msal's result dict."""
    try:
        result = acquire(CONNECTOR_SCOPE)
    except Exception as error:  # msal raises on an unreachable or malformed authority
        return [Finding("fail", "Entra sign-in", f"cannot reach {login_url(settings)}: {type(error).__name__}",
                        "check the network, MicrosoftAppTenantId and BOT_LOGIN_URL")]
    if "access_token" not in result:
        return [_entra_problem(result)]
    found = [Finding("ok", "Entra sign-in", "the bot got a Bot Connector token with its secret")]
    if not graph_enabled(settings.extra):
        return found + [Finding("warn", "Graph", "off: the directory is the bot's own people table, Entra Global "
                                "Administrators are not recognized", "set GRAPH_ENABLED=true once permissions are "
                                "granted")]
    graph = acquire(GRAPH_SCOPE)
    if "access_token" not in graph:
        return found + [_entra_problem(graph)]
    granted = token_roles(str(graph["access_token"]))
    for feature, permissions in FEATURE_PERMISSIONS.items():
        missing = [p for p in permissions if p not in granted]
        if missing:
            found.append(Finding("warn" if feature in OPTIONAL_FEATURES else "fail", f"Graph: {feature}",
                                 f"missing application permission {', '.join(missing)}",
                                 f"{APP_REGISTRATION} > API permissions > Add a permission > Microsoft Graph > "
                                 f"Application permissions, then Grant admin consent"))
        else:
            found.append(Finding("ok", f"Graph: {feature}", ", ".join(permissions)))
    return found


def diagnose(environ: dict[str, str], *, endpoint: str = "", package_zip: Path = Path("build/appPackage.zip"),
             acquire: Callable[[str], dict[str, object]] | None = None) -> list[Finding]:
    """Every check; ``acquire`` given: the online checks too."""
    settings = Settings.from_mapping(environ)
    found = check_ids(settings)
    package, package_found = check_package(environ, package_zip)
    found += package_found + check_endpoint(package, endpoint) + check_sso(settings) + check_service(settings)
    if acquire is not None and not any(f.level == "fail" for f in found if f.check.startswith("Microsoft")):
        found += check_online(settings, acquire)
    return found


def msal_acquirer(settings: Settings) -> Callable[[str], dict[str, object]]:
    clients = MsalClients(settings.extra.get("MSAL_CA_BUNDLE", "").strip())
    app = clients.get(settings.app_id, settings.app_password, login_url(settings))

    def acquire(scope: str) -> dict[str, object]:
        return dict(app.acquire_token_for_client(scopes=[scope]) or {})

    return acquire


def add_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse's private alias
    doctor = sub.add_parser("doctor", help="check the configuration before the first start in a tenant")
    doctor.add_argument("--messaging-endpoint", default="", help="the Azure Bot's messaging endpoint, to compare")
    doctor.add_argument("--package", type=Path, default=Path("build/appPackage.zip"), help="the app package zip")
    doctor.add_argument("--online", action="store_true", help="also ask Entra for the bot's tokens")


def run(settings: Settings, args: argparse.Namespace, out: Callable[[str], object] = print) -> int:
    environ = {k: v for k, v in settings.extra.items() if isinstance(v, str)}
    acquire = msal_acquirer(settings) if args.online and settings.app_id and GUID.match(settings.app_id) else None
    found = diagnose(environ, endpoint=args.messaging_endpoint, package_zip=args.package, acquire=acquire)
    for finding in found:
        out(finding.line())
    failed = sum(f.level == "fail" for f in found)
    warned = sum(f.level == "warn" for f in found)
    out(f"{failed} failed, {warned} warnings, {len(found) - failed - warned} ok")
    return 1 if failed else 0
