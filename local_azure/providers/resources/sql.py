"""Microsoft.Sql specifics: the server's Entra administrator (`administrators/ActiveDirectory`).

The administrator is a child resource, and the server shows the same facts in its own
`properties.administrators`; both stay in step here. `principalType` there comes from the
directory (User, Group or Application), as Azure derives it from the sid.
"""

from __future__ import annotations

import re
from typing import Any

from local_azure.kernel import JSON, ArmError, Context
from local_azure.providers.resources.catalog import Ref

ADMIN_TYPE = "Microsoft.Sql/servers/administrators"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PRINCIPAL_TYPES = {"User": "User", "Group": "Group", "ServicePrincipal": "Application"}


def _invalid(parameter: str) -> ArmError:
    return ArmError(
        400,
        "InvalidParameterValue",
        f"Invalid value given for parameter {parameter}. Specify a valid parameter value.",
    )


def admin_properties(ctx: Context, requested: Any) -> JSON:
    """The administrator's properties from a PUT body; 400 for missing or malformed fields."""
    props = requested if isinstance(requested, dict) else {}
    if str(props.get("administratorType", "")).lower() != "activedirectory":
        raise _invalid("administratorType")
    login, sid = props.get("login"), props.get("sid")
    if not isinstance(login, str) or not login:
        raise _invalid("login")
    if not isinstance(sid, str) or not _GUID.match(sid):
        raise _invalid("sid")
    tenant = props.get("tenantId") or ctx.tenant_id
    if not isinstance(tenant, str) or not _GUID.match(tenant):
        raise _invalid("tenantId")
    out: JSON = {
        "administratorType": "ActiveDirectory",
        "login": login,
        "sid": sid.lower(),
        "tenantId": tenant.lower(),
        "azureADOnlyAuthentication": bool(props.get("azureADOnlyAuthentication", True)),
    }
    return out


def sync_server(ctx: Context, admin: Ref, props: JSON | None) -> None:
    """Mirror the administrator onto its server's `properties.administrators` (None: removed)."""
    server_id = admin.parent_id
    server = ctx.store.get(server_id)
    if server is None:
        return
    server_props = dict(server.get("properties") or {})
    if props is None:
        server_props.pop("administrators", None)
    else:
        principal = ctx.store.get_principal(props["sid"])
        server_props["administrators"] = {
            "administratorType": "ActiveDirectory",
            "principalType": _PRINCIPAL_TYPES.get(principal.kind, "User") if principal else "User",
            "login": props["login"],
            "sid": props["sid"],
            "tenantId": props["tenantId"],
            "azureADOnlyAuthentication": props["azureADOnlyAuthentication"],
        }
    server["properties"] = server_props
    ctx.store.put(server_id, str(server["type"]), admin.group_id, server)
