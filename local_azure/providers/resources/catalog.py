"""The resource types the emulator serves besides identities and RBAC, and how each looks.

Each `Kind` says which api-versions its provider accepts, how that provider spells the
combined identity type (Web and Compute: `"SystemAssigned, UserAssigned"`; App, Storage and
SQL: `"SystemAssigned,UserAssigned"`), how it reports locations (Web and App show display
names), and which default properties a new resource gets. Defaults follow the official
examples closely enough for clients that read the usual fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from local_azure.providers import regions
from local_azure.providers.resources import defaults
from local_azure.providers.resources.defaults import Defaults, Seed
from local_azure.providers.scopes import Ref

__all__ = ["KINDS", "Kind", "Ref", "Seed", "display_location", "kind_of"]

# fmt: off
WEB_VERSIONS = (
    "2020-06-01", "2020-09-01", "2020-10-01", "2020-12-01", "2021-01-01", "2021-01-15",
    "2021-02-01", "2021-03-01", "2022-03-01", "2022-09-01", "2023-01-01", "2023-12-01",
    "2024-04-01", "2024-11-01", "2025-03-01", "2025-05-01",
)
COMPUTE_VERSIONS = (
    "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01",
    "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01",
    "2024-11-01", "2025-04-01", "2025-11-01", "2026-04-01",
)
APP_VERSIONS = (
    "2022-03-01", "2022-10-01", "2022-11-01-preview", "2023-04-01-preview", "2023-05-01",
    "2023-05-02-preview", "2023-08-01-preview", "2023-11-02-preview", "2024-02-02-preview",
    "2024-03-01", "2024-08-02-preview", "2024-10-02-preview", "2025-01-01",
    "2025-02-02-preview", "2025-07-01", "2025-10-02-preview", "2026-01-01", "2026-07-01",
)
KEYVAULT_VERSIONS = (
    "2019-09-01", "2021-04-01-preview", "2021-10-01", "2022-07-01", "2023-02-01", "2023-07-01",
    "2024-04-01-preview", "2024-11-01", "2024-12-01-preview", "2025-05-01",
)
STORAGE_VERSIONS = (
    "2021-04-01", "2021-06-01", "2021-08-01", "2021-09-01", "2022-05-01", "2022-09-01",
    "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01", "2025-06-01",
)
SQL_VERSIONS = (
    "2014-04-01", "2021-02-01-preview", "2021-11-01", "2022-05-01-preview",
    "2022-08-01-preview", "2022-11-01-preview", "2023-02-01-preview", "2023-05-01-preview",
    "2023-08-01", "2023-08-01-preview", "2024-05-01-preview", "2024-11-01-preview",
    "2025-01-01",
)
# fmt: on

# Identity styles: how a provider spells the combined type; None = no identity block at all.
SPACED = "SystemAssigned, UserAssigned"
UNSPACED = "SystemAssigned,UserAssigned"


@dataclass(frozen=True)
class Kind:
    type: str
    api_versions: tuple[str, ...]
    defaults: Defaults
    identity: str | None = SPACED  # combined spelling, or None: no identity block
    system_assigned: bool = True
    tracked: bool = True  # has a location and shows up in resource lists
    display_location: bool = False
    create_status: int = 201
    readonly: frozenset[str] = frozenset({"provisioningState"})
    name_pattern: re.Pattern[str] = re.compile(r"^[\w][\w.\-]{0,79}$")
    name_error: tuple[str, str] = ("InvalidResourceName", "")
    fixed_names: tuple[str, ...] = ()
    qualified_name: bool = False  # `name` shows the parent too ("site/slot"), as Web does
    any_api_version: bool = False  # a generic type: any well-formed api-version is accepted
    tags_only_patch: bool = False  # PATCH updates tags alone (Logic, AKS, container groups)

    def accepts(self, api_version: str) -> bool:
        if self.any_api_version:
            return API_VERSION_RE.match(api_version) is not None
        return api_version in self.api_versions


KINDS: dict[str, Kind] = {
    k.type.lower(): k
    for k in (
        Kind(
            "Microsoft.Web/sites",
            WEB_VERSIONS,
            defaults.web,
            display_location=True,
            create_status=200,
            readonly=frozenset(
                {
                    "defaultHostName",
                    "hostNames",
                    "state",
                    "usageState",
                    "repositorySiteName",
                    "lastModifiedTimeUtc",
                    "resourceGroup",
                }
            ),
            name_pattern=re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?$"),
        ),
        Kind(
            "Microsoft.Web/sites/slots",
            WEB_VERSIONS,
            defaults.web_slot,
            display_location=True,
            create_status=200,
            readonly=frozenset(
                {"defaultHostName", "hostNames", "state", "usageState", "resourceGroup"}
            ),
            name_pattern=re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$"),
            qualified_name=True,
        ),
        Kind(
            "Microsoft.Compute/virtualMachineScaleSets",
            COMPUTE_VERSIONS,
            defaults.scale_set,
            readonly=frozenset({"uniqueId", "provisioningState", "timeCreated"}),
            name_pattern=re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]?$"),
        ),
        Kind(
            "Microsoft.App/jobs",
            APP_VERSIONS,
            defaults.container_app_job,
            identity=UNSPACED,
            display_location=True,
            name_pattern=re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$"),
        ),
        Kind(
            "Microsoft.Compute/virtualMachines",
            COMPUTE_VERSIONS,
            defaults.vm,
            readonly=frozenset({"vmId", "provisioningState", "timeCreated"}),
            name_pattern=re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]?$"),
        ),
        Kind(
            "Microsoft.App/containerApps",
            APP_VERSIONS,
            defaults.container_app,
            identity=UNSPACED,
            display_location=True,
            readonly=frozenset(
                {
                    "provisioningState",
                    "runningStatus",
                    "latestRevisionName",
                    "latestReadyRevisionName",
                    "latestRevisionFqdn",
                }
            ),
            name_pattern=re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$"),
        ),
        Kind(
            "Microsoft.KeyVault/vaults",
            KEYVAULT_VERSIONS,
            defaults.vault,
            identity=None,
            readonly=frozenset({"provisioningState", "vaultUri"}),
            name_pattern=re.compile(r"^(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$"),
            name_error=(
                "VaultNameNotValid",
                "The vault name '{name}' is invalid. A vault's "
                "name must be between 3-24 alphanumeric characters. The name must begin "
                "with a letter, end with a letter or digit, and not contain consecutive "
                "hyphens.",
            ),
        ),
        Kind(
            "Microsoft.Storage/storageAccounts",
            STORAGE_VERSIONS,
            defaults.storage,
            identity=UNSPACED,
            create_status=200,
            readonly=frozenset(
                {
                    "provisioningState",
                    "creationTime",
                    "primaryEndpoints",
                    "primaryLocation",
                    "statusOfPrimary",
                    "keyCreationTime",
                }
            ),
            name_pattern=re.compile(r"^[a-z0-9]{3,24}$"),
            name_error=(
                "AccountNameInvalid",
                "{name} is not a valid storage account name. "
                "Storage account name must be between 3 and 24 characters in length and "
                "use numbers and lower-case letters only.",
            ),
        ),
        Kind(
            "Microsoft.Sql/servers",
            SQL_VERSIONS,
            defaults.sql_server,
            identity=UNSPACED,
            readonly=frozenset({"state", "fullyQualifiedDomainName", "administrators"}),
            name_pattern=re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"),
        ),
        Kind(
            "Microsoft.Sql/servers/databases",
            SQL_VERSIONS,
            defaults.sql_database,
            identity=UNSPACED,
            system_assigned=False,
            readonly=frozenset(
                {
                    "status",
                    "databaseId",
                    "creationDate",
                    "currentSku",
                    "currentServiceObjectiveName",
                    "defaultSecondaryLocation",
                }
            ),
            name_pattern=re.compile(r"^[^<>*%&:\\/?]{1,128}(?<![. ])$"),
        ),
        Kind(
            "Microsoft.Sql/servers/administrators",
            SQL_VERSIONS,
            defaults.sql_admin,
            identity=None,
            tracked=False,
            create_status=200,
            readonly=frozenset(),
            fixed_names=("ActiveDirectory",),
        ),
    )
}

# Identity hosts with no richer model here: documents with an identity block, nothing more.
# (type, api-versions, combined spelling), from each provider's REST specification.
_TAGS_ONLY_PATCH = frozenset(
    {
        "microsoft.logic/workflows",
        "microsoft.containerservice/managedclusters",
        "microsoft.containerinstance/containergroups",
    }
)
_HOSTS = (
    ("Microsoft.Logic/workflows", ("2016-06-01", "2019-05-01"), SPACED),
    ("Microsoft.DataFactory/factories", ("2017-09-01-preview", "2018-06-01"), UNSPACED),
    ("Microsoft.ApiManagement/service", ("2022-08-01", "2023-09-01", "2024-05-01"), SPACED),
    (
        "Microsoft.ContainerService/managedClusters",
        ("2024-02-01", "2024-05-01", "2024-09-01", "2025-01-01"),
        SPACED,
    ),
    ("Microsoft.ContainerInstance/containerGroups", ("2023-05-01", "2024-11-01-preview"), SPACED),
    ("Microsoft.Automation/automationAccounts", ("2022-08-08", "2023-11-01"), SPACED),
    ("Microsoft.DocumentDB/databaseAccounts", ("2024-08-15", "2024-11-15"), UNSPACED),
)
KINDS.update(
    {
        t.lower(): Kind(
            t,
            versions,
            defaults.generic,
            identity=both,
            name_pattern=re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"),
            tags_only_patch=t.lower() in _TAGS_ONLY_PATCH,
        )
        for t, versions, both in _HOSTS
    }
)

NAMESPACES = frozenset(k.split("/")[0] for k in KINDS)

API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|beta|alpha|privatepreview))?$")
RESOURCE_TYPE_RE = re.compile(
    r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+(/[A-Za-z][A-Za-z0-9]*)+$"
)
# Namespaces served by their own providers: never a generic resource.
_OWN_NAMESPACES = frozenset(
    {
        "microsoft.managedidentity",
        "microsoft.authorization",
        "microsoft.resources",
        "microsoft.management",
    }
)


def kind_of(resource_type: str) -> Kind | None:
    """The seeded kind of a type; any other well-formed type is a generic resource.

    Estates hold far more types than the emulator models (registries, Service Bus, Event Hubs,
    ...). As grant scopes they only need to exist, so each is served as a plain document with
    its tags, location and properties, under any api-version.
    """
    known = KINDS.get(resource_type.lower())
    if known is not None:
        return known
    if not RESOURCE_TYPE_RE.match(resource_type):
        return None
    if resource_type.split("/", 1)[0].lower() in _OWN_NAMESPACES:
        return None
    return _GENERIC.setdefault(resource_type.lower(), _generic(resource_type))


_GENERIC: dict[str, Kind] = {}  # first spelling seen wins, as ARM keeps the first casing


def _generic(spelling: str) -> Kind:
    return Kind(
        spelling,
        (),
        defaults.generic,
        identity=None,
        any_api_version=True,
        name_pattern=re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()-]{0,259}$"),
        qualified_name=spelling.count("/") > 1,
    )


def display_location(kind: Kind, location: str) -> str:
    """How the provider reports a location: `UK South` (Web, App) or `uksouth`."""
    region = regions.find(location)
    if region is None:
        return location
    return region.display_name if kind.display_location else region.name
