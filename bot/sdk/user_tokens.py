"""A user-token client built only when a turn uses it.

The stock ``CloudAdapter`` builds a user-token client (an msrest ``OAuthClient`` with its own
credentials and retry policies) for every turn, although only sign-in turns (SSO, OAuth prompts) ever
call it. :class:`LazyUserTokenClient` takes its place in ``turn_state`` and asks the authentication
object for the real one on the first call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botframework.connector.auth.user_token_client import UserTokenClient


class LazyUserTokenClient(UserTokenClient):
    def __init__(self, create: Callable[[], Awaitable[UserTokenClient]]) -> None:
        self._create = create
        self._client: UserTokenClient | None = None

    async def client(self) -> UserTokenClient:
        if self._client is None:
            self._client = await self._create()
        return self._client

    @property
    def created(self) -> bool:
        return self._client is not None

    async def get_user_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).get_user_token(*args, **kwargs)

    async def get_sign_in_resource(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).get_sign_in_resource(*args, **kwargs)

    async def sign_out_user(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).sign_out_user(*args, **kwargs)

    async def get_token_status(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).get_token_status(*args, **kwargs)

    async def get_aad_tokens(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).get_aad_tokens(*args, **kwargs)

    async def exchange_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.client()).exchange_token(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # anything an implementation adds (e.g. its ``_client``)
        client = self.__dict__.get("_client")
        if client is None:
            raise AttributeError(f"{name} (the user-token client is created on first use; await .client())")
        return getattr(client, name)
