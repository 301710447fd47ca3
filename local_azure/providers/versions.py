"""Api-version gates per resource type, answering as ARM's front door does.

ARM routes a request by resource type, location and api-version; an api-version the provider
never registered fails before the provider sees it, with NoRegisteredProviderFound naming the
location, the type, and every version and location the type does support. The location is
only known inside a handler (a request body, a resource group), so the gate wraps handlers
rather than sitting in the Router.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from local_azure.kernel import (
    ArmError,
    Context,
    Handler,
    Request,
    Response,
    no_api_version,
)

LocationOf = Callable[[Context, Request, dict[str, str]], str]


@dataclass(frozen=True)
class ResourceType:
    """One registered resource type: its short name as ARM prints it, versions, locations."""

    name: str
    api_versions: tuple[str, ...]
    locations: tuple[str, ...] = ()

    def supports(self, version: str) -> bool:
        return version in self.api_versions

    def error(self, location: str, version: str) -> ArmError:
        versions = ", ".join(sorted(self.api_versions, reverse=True))
        return ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API version "
            f"'{version}' for type '{self.name}'. The supported api-versions are '{versions}'. "
            f"The supported locations are '{', '.join(self.locations)}'.",
        )


def gate(
    rtype: ResourceType, location_of: LocationOf | None = None
) -> Callable[[Handler], Handler]:
    """Wrap a handler: 400 MissingApiVersionParameter / NoRegisteredProviderFound first."""

    def wrap(handler: Handler) -> Handler:
        def gated(ctx: Context, req: Request, params: dict[str, str]) -> Response:
            version = req.api_version
            if not version:
                raise no_api_version()
            if not rtype.supports(version):
                location = "global"
                if location_of is not None:
                    with contextlib.suppress(ArmError):
                        location = location_of(ctx, req, params) or location
                raise rtype.error(location, version)
            return handler(ctx, req, params)

        gated.__name__ = getattr(handler, "__name__", "handler")
        gated.__doc__ = handler.__doc__
        return gated

    return wrap


def versions_of(*types: ResourceType) -> Sequence[str]:
    """Every api-version any of the types accepts (for discovery listings)."""
    return sorted({v for t in types for v in t.api_versions}, reverse=True)
