"""Which audiences each service of the emulator accepts, and which resources Entra knows.

ARM takes tokens for `management.azure.com` or `management.core.windows.net`; the emulator's
Graph takes Graph's own names and the URL `/metadata/endpoints` advertises for it. The token
endpoint issues tokens only for resources Entra would know (first-party services, and apps
whose service principal is in the tenant), and refuses others with AADSTS500011 when the token
is requested, as Entra does, rather than minting a token that every service then refuses.
"""

from __future__ import annotations

from local_azure.graph import GRAPH_APP_ID, graph_root
from local_azure.kernel import Context

ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
ARM_AUDIENCES_LOWER = frozenset(a.lower() for a in ARM_AUDIENCES)
GRAPH_AUDIENCES = ("https://graph.microsoft.com/", "https://graph.microsoft.com", GRAPH_APP_ID)

# First-party resources of the public cloud a managed identity may ask a token for.
FIRST_PARTY = frozenset(
    {
        "https://management.azure.com",
        "https://management.core.windows.net",
        "https://graph.microsoft.com",
        "https://database.windows.net",
        "https://vault.azure.net",
        "https://storage.azure.com",
        "https://servicebus.azure.net",
        "https://eventhubs.azure.net",
        "https://ossrdbms-aad.database.windows.net",
        "https://cognitiveservices.azure.com",
        "https://monitor.azure.com",
        "https://api.loganalytics.io",
        "https://dev.azuresynapse.net",
        "https://kusto.kusto.windows.net",
        "api://azureadtokenexchange",
        GRAPH_APP_ID,
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",  # Azure Resource Manager's app id
    }
)


def graph_audiences(base_url: str) -> frozenset[str]:
    """What the emulator's Graph accepts as `aud` (lower-case)."""
    root = graph_root(base_url).lower()
    return frozenset({a.lower() for a in GRAPH_AUDIENCES} | {root, root.rstrip("/")})


def known_resource(ctx: Context, resource: str, base_url: str) -> bool:
    """Whether Entra would issue a token for `resource` in the emulated tenant."""
    key = resource.strip().rstrip("/").lower()
    if key in FIRST_PARTY or key in graph_audiences(base_url):
        return True
    return ctx.store.principal_by_app_id(key) is not None
