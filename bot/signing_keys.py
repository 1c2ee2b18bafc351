"""The Bot Connector's token-signing keys, fetched without stalling the bot and never on a stranger's say-so.

botbuilder's ``_OpenIdMetadata`` fetches the OpenID metadata and the key set with blocking
``requests`` on the event loop, with no timeout, and fetches again whenever a token names a key it
does not have, or whenever the last fetch failed: every junk token carrying the Bot Framework issuer
stalled every request of the bot for as long as the key endpoint took. Here:

* keys are fetched with ``aiohttp`` (the loop keeps serving) under a total timeout;
* one fetch at a time per metadata URL; requests that need it wait for that one fetch;
* a key that is known is served from memory; keys older than ``max_age_s`` are refreshed in the
  background while the known ones keep serving;
* a token naming an unknown key triggers a fetch only when the last attempt is at least
  ``min_refresh_s`` old (``retry_s`` while no key was ever fetched), so however many junk tokens
  arrive, the key endpoint sees at most one fetch per interval;
* when no key could ever be fetched, requests are answered 503 (``SigningKeysUnavailable``), not 500.

The SDK looks its metadata objects up in the class-level ``JwtTokenExtractor.metadataCache``; the
app installs a :class:`SigningKeys` there for its lifetime (``signing_keys_ctx``), so every token the
SDK validates, channel or emulator, takes its key from here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from bot import keys as app_keys
from bot.settings import number_setting

log = logging.getLogger(__name__)

#: the largest metadata or key-set document read (the public key set is a few KB)
MAX_DOCUMENT_BYTES = 1 << 20


class SigningKeysUnavailable(web.HTTPServiceUnavailable):
    """No signing key could be fetched yet: the request may succeed later (503 with Retry-After)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(headers={"Retry-After": str(max(1, int(retry_after_s + 0.999)))},
                         text="signing keys unavailable")


@dataclass(frozen=True)
class KeyPolicy:
    """When keys are fetched; ``SIGNING_KEYS_*`` settings (see ``.env.example``)."""

    timeout_s: float = 10.0
    """a whole fetch (metadata and key set) is abandoned after this long"""
    min_refresh_s: float = 300.0
    """an unknown key id fetches again only when the last attempt is at least this old"""
    retry_s: float = 30.0
    """while no key was ever fetched, attempts are at least this far apart"""
    max_age_s: float = 86400.0
    """known keys are refreshed in the background once they are this old"""

    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> KeyPolicy:
        def number(name: str, default: float) -> float:
            return number_setting(extra, name, default)

        return cls(timeout_s=number("SIGNING_KEYS_TIMEOUT_SECONDS", cls.timeout_s),
                   min_refresh_s=number("SIGNING_KEYS_MIN_REFRESH_SECONDS", cls.min_refresh_s),
                   retry_s=min(cls.retry_s, number("SIGNING_KEYS_MIN_REFRESH_SECONDS", cls.min_refresh_s)),
                   max_age_s=number("SIGNING_KEYS_MAX_AGE_HOURS", cls.max_age_s / 3600) * 3600)


class SigningKey:
    """What the SDK's ``JwtTokenExtractor`` reads from a metadata lookup."""

    __slots__ = ("endorsements", "public_key")

    def __init__(self, public_key: Any, endorsements: list[str]) -> None:
        self.public_key = public_key
        self.endorsements = endorsements


class KeySet:
    """The keys behind one OpenID metadata URL (the SDK's ``_OpenIdMetadata`` interface: ``get``)."""

    def __init__(self, url: str, policy: KeyPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.policy = policy
        self.clock = clock
        self.keys: dict[str, SigningKey] = {}
        self.fetched_at: float | None = None
        self.attempted_at: float | None = None
        self.fetches = 0
        self.last_error = ""
        self._inflight: asyncio.Task[None] | None = None

    async def get(self, key_id: Any) -> SigningKey:
        if not isinstance(key_id, str) or not key_id:
            raise PermissionError("the token names no signing key")
        key = self.keys.get(key_id)
        now = self.clock()
        if key is not None:
            if self.fetched_at is not None and now - self.fetched_at >= self.policy.max_age_s:
                self._start_refresh(now)  # the known keys keep serving meanwhile
            return key
        inflight = self._current_fetch()
        if inflight is None and self._may_fetch(now):
            inflight = self._start_refresh(now)
        if inflight is not None:
            await asyncio.shield(inflight)
            key = self.keys.get(key_id)
            if key is not None:
                return key
        if not self.keys:
            raise SigningKeysUnavailable(self.policy.retry_s)
        raise PermissionError("the token names a signing key the Bot Connector does not publish")

    def prefetch(self) -> None:
        """Start a fetch now unless one ran recently (start-up: the first request finds the keys)."""
        if self._current_fetch() is None and self._may_fetch(self.clock()):
            self._start_refresh(self.clock())

    def _may_fetch(self, now: float) -> bool:
        if self.attempted_at is None:
            return True
        interval = self.policy.min_refresh_s if self.keys else self.policy.retry_s
        return now - self.attempted_at >= interval

    def _current_fetch(self) -> asyncio.Task[None] | None:
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return None
        return task

    def _start_refresh(self, now: float) -> asyncio.Task[None]:
        current = self._current_fetch()
        if current is not None:
            return current
        self.attempted_at = now
        self._inflight = asyncio.get_running_loop().create_task(self._refresh(), name=f"signing keys {self.url}")
        return self._inflight

    async def _refresh(self) -> None:
        self.fetches += 1
        try:
            async with asyncio.timeout(self.policy.timeout_s):
                keys = await self._fetch()
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
            self.last_error = f"{type(error).__name__}: {error}"[:300] or type(error).__name__
            log.warning("signing keys could not be fetched",
                        extra={"url": self.url, "reason": self.last_error, "keys_kept": len(self.keys)})
            return
        self.keys = keys
        self.fetched_at = self.clock()
        self.last_error = ""
        log.info("signing keys fetched", extra={"url": self.url, "keys": len(keys)})

    async def _fetch(self) -> dict[str, SigningKey]:
        async with aiohttp.ClientSession(trust_env=False) as session:
            metadata = await _json(session, self.url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ValueError("the OpenID metadata names no jwks_uri")
            document = await _json(session, jwks_uri)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("the key set has no keys")
        keys: dict[str, SigningKey] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            try:
                public_key = RSAAlgorithm.from_jwk(json.dumps(entry))
            except Exception:  # noqa: BLE001 - a key we cannot read signs nothing we accept
                continue
            endorsements = entry.get("endorsements")
            keys[entry["kid"]] = SigningKey(
                public_key, [e for e in endorsements if isinstance(e, str)] if isinstance(endorsements, list) else [])
        if not keys:
            raise ValueError("the key set has no usable RSA key")
        return keys


async def _json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        return json.loads(body)


class SigningKeys(dict[str, KeySet]):
    """Installed as ``JwtTokenExtractor.metadataCache``: a key set for every URL the SDK asks about."""

    def __init__(self, policy: KeyPolicy) -> None:
        super().__init__()
        self.policy = policy

    def get(self, url: str, default: Any = None) -> KeySet:
        found = super().get(url)
        if found is None:
            found = self[url] = KeySet(url, self.policy)
        return found

    @property
    def fetches(self) -> int:
        return sum(keys.fetches for keys in self.values())


def channel_metadata_url(extra: Mapping[str, str]) -> str:
    return ((extra.get("BOT_OPENID_METADATA_URL") or "").strip()
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)


async def signing_keys_ctx(app: web.Application) -> AsyncIterator[None]:
    """The app's key sets, installed where the SDK looks for them; with auth on, fetched at start."""
    settings = app[app_keys.SETTINGS]
    registry = SigningKeys(KeyPolicy.from_settings(settings.extra))
    app[app_keys.SIGNING_KEYS] = registry
    previous = JwtTokenExtractor.metadataCache
    JwtTokenExtractor.metadataCache = registry
    if settings.auth_enabled:
        registry.get(channel_metadata_url(settings.extra)).prefetch()
    try:
        yield
    finally:
        for key_set in registry.values():
            task = key_set._current_fetch()
            if task is not None:
                task.cancel()
        if JwtTokenExtractor.metadataCache is registry:
            JwtTokenExtractor.metadataCache = previous
