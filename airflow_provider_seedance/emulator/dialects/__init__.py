"""The three vendor dialects served on one port: EvoLink, AIML API and BytePlus ModelArk."""

from __future__ import annotations

from typing import Protocol

from starlette.responses import Response
from starlette.routing import Route

from . import aimlapi, evolink, modelark


class ErrorResponder(Protocol):
    def __call__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        path: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response: ...


ERROR_RESPONDERS: dict[str, ErrorResponder] = {
    evolink.NAME: evolink.error,
    aimlapi.NAME: aimlapi.error,
    modelark.NAME: modelark.error,
}


def all_routes() -> list[Route]:
    """Every dialect route."""
    return [*evolink.routes(), *aimlapi.routes(), *modelark.routes()]


__all__ = ["ERROR_RESPONDERS", "ErrorResponder", "aimlapi", "all_routes", "evolink", "modelark"]
