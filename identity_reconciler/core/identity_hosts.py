"""The resource types that hold managed identities, and how each expresses its identity block.

One table, read by the spec (which types `assigned_to` and `resources` accept), by `azure/`
(api-version, PATCH or full PUT, the combined type's spelling, a primary-identity property)
and by the docs generator (docs/identity-hosts.md). Each row was read from the type's REST
specification in Azure/azure-rest-api-specs:

- Web (sites, slots), Compute, App, Sql, Cosmos DB, Data Factory, API Management and
  Automation take the identity block in a PATCH.
- Logic workflows, AKS clusters and container groups PATCH only tags: the block is written
  with a PUT of the read-modified resource.
- Logic workflows (Consumption) and AKS control planes take the system-assigned identity or a
  single user-assigned one, never both.
- SQL servers with user-assigned identities need `properties.primaryUserAssignedIdentityId`.
"""

from __future__ import annotations

from dataclasses import dataclass

SPACED = "SystemAssigned, UserAssigned"
UNSPACED = "SystemAssigned,UserAssigned"


@dataclass(frozen=True)
class IdentityHost:
    type: str  # canonical spelling
    what: str  # what people call it
    api_version: str
    patch: bool = True  # PATCH of the identity block; else PUT of the read-modified body
    both_spelling: str | None = SPACED  # None: system-assigned OR user-assigned, never both
    max_user_assigned: int | None = None  # None: no documented limit below ARM's
    primary_property: str | None = None  # property naming the primary user-assigned identity

    @property
    def allows_both(self) -> bool:
        return self.both_spelling is not None


TABLE: tuple[IdentityHost, ...] = (
    IdentityHost("Microsoft.Web/sites", "App Service and Function apps", "2024-11-01"),
    IdentityHost("Microsoft.Web/sites/slots", "App Service deployment slots", "2024-11-01"),
    IdentityHost("Microsoft.Compute/virtualMachines", "virtual machines", "2024-07-01"),
    IdentityHost("Microsoft.Compute/virtualMachineScaleSets", "VM scale sets", "2024-07-01"),
    IdentityHost("Microsoft.App/containerApps", "Container Apps", "2024-03-01", True, UNSPACED),
    IdentityHost("Microsoft.App/jobs", "Container Apps jobs", "2024-03-01", True, UNSPACED),
    IdentityHost(
        "Microsoft.Logic/workflows", "Logic Apps (Consumption)", "2019-05-01",
        patch=False, both_spelling=None, max_user_assigned=1,
    ),
    IdentityHost(
        "Microsoft.DataFactory/factories", "Data Factory", "2018-06-01", True, UNSPACED
    ),
    IdentityHost("Microsoft.ApiManagement/service", "API Management", "2024-05-01"),
    IdentityHost(
        "Microsoft.ContainerService/managedClusters", "AKS (control-plane identity)",
        "2024-09-01", patch=False, both_spelling=None, max_user_assigned=1,
    ),
    IdentityHost(
        "Microsoft.ContainerInstance/containerGroups", "Container Instances", "2023-05-01",
        patch=False,
    ),
    IdentityHost(
        "Microsoft.Automation/automationAccounts", "Automation accounts", "2023-11-01"
    ),
    IdentityHost(
        "Microsoft.DocumentDB/databaseAccounts", "Cosmos DB accounts", "2024-11-15",
        True, UNSPACED,
    ),
    IdentityHost(
        "Microsoft.Sql/servers", "Azure SQL servers", "2023-08-01", True, UNSPACED,
        primary_property="primaryUserAssignedIdentityId",
    ),
)

BY_TYPE: dict[str, IdentityHost] = {h.type.lower(): h for h in TABLE}


def find(resource_type: str) -> IdentityHost | None:
    return BY_TYPE.get(resource_type.lower())
