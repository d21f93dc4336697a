"""The HTTP patterns peer providers use, as SeedanceHook subclasses, so the trigger logic (adaptive
polling, logging, events) is identical and only the way a poll reaches the API differs.

- ``shared``: this provider (one pooled ``httpx.AsyncClient`` per connection per event loop).
- ``new_client``: a new ``httpx.AsyncClient`` per poll (a new connection, and over TLS a new SSL context
  and handshake, every poll).
- ``to_thread``: a sync ``httpx.Client`` per hook (one hook per trigger) called through
  ``asyncio.to_thread``, as providers wrapping a sync SDK do.
- ``sync_in_loop``: the same sync client called directly in the event loop (blocks every other trigger).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from airflow_provider_seedance.hooks.seedance import SeedanceHook
from airflow_provider_seedance.triggers.seedance import SeedanceGenerationTrigger
from airflow_provider_seedance.wire._calls import connection_error, parse_response, request_kwargs
from airflow_provider_seedance.wire.backends import ApiCall
from airflow_provider_seedance.wire.settings import build_async_client


class NewClientHook(SeedanceHook):
    async def _asend(self, call: ApiCall) -> dict[str, Any]:
        settings = await self.aget_settings()
        async with build_async_client(settings) as client:
            try:
                response = await client.request(**request_kwargs(call))
            except httpx.HTTPError as exc:
                raise connection_error(exc, call, settings.base_url) from None
        return parse_response(settings.backend, call, response)


class ToThreadHook(SeedanceHook):
    async def _asend(self, call: ApiCall) -> dict[str, Any]:
        return await asyncio.to_thread(self._send, call)


class SyncInLoopHook(SeedanceHook):
    async def _asend(self, call: ApiCall) -> dict[str, Any]:
        return self._send(call)  # the anti-pattern under test


HOOKS: dict[str, type[SeedanceHook]] = {
    "shared": SeedanceHook,
    "new_client": NewClientHook,
    "to_thread": ToThreadHook,
    "sync_in_loop": SyncInLoopHook,
}

LABELS = {
    "shared": "this provider: shared pooled AsyncClient",
    "new_client": "new AsyncClient per poll",
    "to_thread": "sync Client via asyncio.to_thread",
    "sync_in_loop": "sync Client in the event loop",
}


def make_trigger(variant: str, **kwargs: Any) -> SeedanceGenerationTrigger:
    """A real SeedanceGenerationTrigger whose hook uses the given HTTP pattern."""
    trigger = SeedanceGenerationTrigger(**kwargs)
    hook_class = HOOKS[variant]
    if hook_class is not SeedanceHook:
        trigger._hook = lambda: hook_class(trigger.seedance_conn_id)  # type: ignore[method-assign]
    return trigger
