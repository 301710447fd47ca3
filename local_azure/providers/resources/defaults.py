"""Default bodies of the seeded resource types: what a new resource looks like.

The fields follow the providers' official examples closely enough for clients that read the
usual ones (host names, vault URI, endpoints, ids). Generated ids are uuid5 of the resource
id, so a resource gets the same ids every time it is created.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from local_azure.kernel import JSON
from local_azure.providers import regions
from local_azure.providers.scopes import Ref

_NS = uuid.UUID("0b3c5d7e-9f11-4a2b-8c3d-4e5f60718293")


@dataclass(frozen=True)
class Seed:
    """What a default body may depend on."""

    ref: Ref
    location: str  # region name
    tenant_id: str
    now: str


Defaults = Callable[[Seed], JSON]


def guid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join(p.lower() for p in parts)))


def web(seed: Seed) -> JSON:
    r, host = seed.ref, f"{seed.ref.name}.azurewebsites.net"
    farm = f"{r.group_id}/providers/Microsoft.Web/serverfarms/asp-{r.name}"
    return {
        "kind": "app",
        "properties": {
            "name": r.name,
            "state": "Running",
            "hostNames": [host],
            "repositorySiteName": r.name,
            "usageState": "Normal",
            "enabled": True,
            "enabledHostNames": [host, f"{r.name}.scm.azurewebsites.net"],
            "availabilityState": "Normal",
            "serverFarmId": farm,
            "reserved": False,
            "isXenon": False,
            "hyperV": False,
            "lastModifiedTimeUtc": seed.now,
            "siteConfig": {
                "numberOfWorkers": 1,
                "alwaysOn": False,
                "http20Enabled": True,
                "minTlsVersion": "1.2",
                "ftpsState": "FtpsOnly",
            },
            "clientAffinityEnabled": True,
            "httpsOnly": True,
            "defaultHostName": host,
            "resourceGroup": r.resource_group,
            "keyVaultReferenceIdentity": "SystemAssigned",
            "publicNetworkAccess": "Enabled",
        },
    }


def web_slot(seed: Seed) -> JSON:
    """A deployment slot: a site of its own, at `{site}-{slot}.azurewebsites.net`."""
    r = seed.ref
    body = web(seed)
    host = f"{r.names[0]}-{r.name}.azurewebsites.net"
    props = body["properties"]
    props.update(
        name=f"{r.names[0]}({r.name})",
        hostNames=[host],
        repositorySiteName=r.names[0],
        enabledHostNames=[host, f"{r.names[0]}-{r.name}.scm.azurewebsites.net"],
        defaultHostName=host,
        serverFarmId=f"{r.group_id}/providers/Microsoft.Web/serverfarms/asp-{r.names[0]}",
    )
    return body


def vm(seed: Seed) -> JSON:
    r = seed.ref
    nic = f"{r.group_id}/providers/Microsoft.Network/networkInterfaces/{r.name}-nic"
    return {
        "properties": {
            "vmId": guid("vm", r.id),
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "ubuntu-24_04-lts",
                    "sku": "server",
                    "version": "latest",
                },
                "osDisk": {
                    "osType": "Linux",
                    "name": f"{r.name}_OsDisk_1",
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {"storageAccountType": "Premium_LRS"},
                    "deleteOption": "Delete",
                    "diskSizeGB": 30,
                },
                "dataDisks": [],
            },
            "osProfile": {
                "computerName": r.name[:64],
                "adminUsername": "azureuser",
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "provisionVMAgent": True,
                },
                "secrets": [],
                "allowExtensionOperations": True,
            },
            "networkProfile": {"networkInterfaces": [{"id": nic}]},
            "provisioningState": "Succeeded",
            "timeCreated": seed.now,
        },
    }


def scale_set(seed: Seed) -> JSON:
    r = seed.ref
    return {
        "sku": {"name": "Standard_B2s", "tier": "Standard", "capacity": 2},
        "properties": {
            "uniqueId": guid("vmss", r.id),
            "orchestrationMode": "Flexible",
            "platformFaultDomainCount": 1,
            "singlePlacementGroup": False,
            "provisioningState": "Succeeded",
            "timeCreated": seed.now,
        },
    }


def container_app_job(seed: Seed) -> JSON:
    r = seed.ref
    env = f"{r.group_id}/providers/Microsoft.App/managedEnvironments/cae-{r.resource_group}"
    image = "mcr.microsoft.com/k8se/quickstart-jobs:latest"
    return {
        "properties": {
            "provisioningState": "Succeeded",
            "environmentId": env,
            "workloadProfileName": "Consumption",
            "configuration": {
                "triggerType": "Manual",
                "replicaTimeout": 1800,
                "replicaRetryLimit": 0,
                "manualTriggerConfig": {"replicaCompletionCount": 1, "parallelism": 1},
            },
            "template": {
                "containers": [
                    {"name": r.name, "image": image, "resources": {"cpu": 0.5, "memory": "1Gi"}}
                ]
            },
        },
    }


def container_app(seed: Seed) -> JSON:
    r = seed.ref
    env = f"{r.group_id}/providers/Microsoft.App/managedEnvironments/cae-{r.resource_group}"
    domain = f"{guid('cae', env)[:12]}.{seed.location}.azurecontainerapps.io"
    revision = f"{r.name}--0000001"
    return {
        "properties": {
            "provisioningState": "Succeeded",
            "runningStatus": "Running",
            "managedEnvironmentId": env,
            "environmentId": env,
            "workloadProfileName": "Consumption",
            "latestRevisionName": revision,
            "latestReadyRevisionName": revision,
            "latestRevisionFqdn": f"{revision}.{domain}",
            "configuration": {
                "activeRevisionsMode": "Single",
                "ingress": {
                    "fqdn": f"{r.name}.{domain}",
                    "external": True,
                    "targetPort": 80,
                    "transport": "Auto",
                    "allowInsecure": False,
                    "traffic": [{"weight": 100, "latestRevision": True}],
                },
                "maxInactiveRevisions": 100,
            },
            "template": {
                "containers": [
                    {
                        "name": r.name,
                        "image": "mcr.microsoft.com/k8se/quickstart:latest",
                        "resources": {"cpu": 0.5, "memory": "1Gi"},
                    }
                ],
                "scale": {"minReplicas": 0, "maxReplicas": 10},
            },
        },
    }


def vault(seed: Seed) -> JSON:
    return {
        "properties": {
            "sku": {"family": "A", "name": "standard"},
            "tenantId": seed.tenant_id,
            "accessPolicies": [],
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": True,
            "vaultUri": f"https://{seed.ref.name}.vault.azure.net/",
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        },
    }


def storage(seed: Seed) -> JSON:
    n = seed.ref.name
    services = ("dfs", "web", "blob", "queue", "table", "file")
    web = {"web": f"https://{n}.z33.web.core.windows.net/"}
    return {
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "properties": {
            "keyCreationTime": {"key1": seed.now, "key2": seed.now},
            "privateEndpointConnections": [],
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": False,
            "networkAcls": {
                "bypass": "AzureServices",
                "virtualNetworkRules": [],
                "ipRules": [],
                "defaultAction": "Allow",
            },
            "supportsHttpsTrafficOnly": True,
            "encryption": {
                "services": {
                    s: {"keyType": "Account", "enabled": True, "lastEnabledTime": seed.now}
                    for s in ("file", "blob")
                },
                "keySource": "Microsoft.Storage",
            },
            "accessTier": "Hot",
            "provisioningState": "Succeeded",
            "creationTime": seed.now,
            "primaryEndpoints": {s: f"https://{n}.{s}.core.windows.net/" for s in services} | web,
            "primaryLocation": seed.location,
            "statusOfPrimary": "available",
        },
    }


def sql_server(seed: Seed) -> JSON:
    return {
        "kind": "v12.0",
        "properties": {
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{seed.ref.name}.database.windows.net",
            "privateEndpointConnections": [],
            "minimalTlsVersion": "1.2",
            "publicNetworkAccess": "Enabled",
            "restrictOutboundNetworkAccess": "Disabled",
        },
    }


def sql_database(seed: Seed) -> JSON:
    r, sku = (
        seed.ref,
        {"name": "GP_S_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 1},
    )
    region = regions.find(seed.location)
    return {
        "kind": "v12.0,user,vcore,serverless",
        "sku": sku,
        "properties": {
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "maxSizeBytes": 34359738368,
            "status": "Online",
            "databaseId": guid("db", r.id),
            "creationDate": seed.now,
            "currentServiceObjectiveName": "GP_S_Gen5_1",
            "requestedServiceObjectiveName": "GP_S_Gen5_1",
            "defaultSecondaryLocation": region.paired if region else seed.location,
            "catalogCollation": "SQL_Latin1_General_CP1_CI_AS",
            "zoneRedundant": False,
            "readScale": "Disabled",
            "currentSku": dict(sku),
            "autoPauseDelay": 60,
            "minCapacity": 0.5,
            "currentBackupStorageRedundancy": "Geo",
            "requestedBackupStorageRedundancy": "Geo",
            "maintenanceConfigurationId": f"/subscriptions/{r.subscription_id}/providers/"
            "Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_Default",
            "isLedgerOn": False,
        },
    }


def sql_admin(seed: Seed) -> JSON:
    return {"properties": {"administratorType": "ActiveDirectory", "tenantId": seed.tenant_id}}


def generic(seed: Seed) -> JSON:
    """Any type the emulator does not model: a document that exists, nothing more."""
    return {"properties": {"provisioningState": "Succeeded"}}
