"""The Azure regions the emulated cloud offers, with the metadata ARM's locations list carries.

Resource groups and resources accept a location by name (`uksouth`) or display name
(`UK South`), as ARM does, and store the name.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_azure.kernel import JSON


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str
    geography: str
    geography_group: str
    physical_location: str
    longitude: str
    latitude: str
    paired: str

    def regional_display_name(self) -> str:
        return f"({self.geography_group}) {self.display_name}"


# name | display name | geography | group | physical location | longitude | latitude | paired
_TABLE = """
eastus|East US|United States|US|Virginia|-79.8164|37.3719|westus
eastus2|East US 2|United States|US|Virginia|-78.3889|36.6681|centralus
centralus|Central US|United States|US|Iowa|-93.6208|41.5908|eastus2
westus|West US|United States|US|California|-122.417|37.783|eastus
westus2|West US 2|United States|US|Washington|-119.852|47.233|westcentralus
westcentralus|West Central US|United States|US|Wyoming|-110.234|40.890|westus2
canadacentral|Canada Central|Canada|Canada|Toronto|-79.383|43.653|canadaeast
canadaeast|Canada East|Canada|Canada|Quebec|-71.217|46.817|canadacentral
northeurope|North Europe|Europe|Europe|Ireland|-6.2597|53.3478|westeurope
westeurope|West Europe|Europe|Europe|Netherlands|4.9|52.3667|northeurope
uksouth|UK South|United Kingdom|Europe|London|-0.799|50.941|ukwest
ukwest|UK West|United Kingdom|Europe|Cardiff|-3.084|53.427|uksouth
francecentral|France Central|France|Europe|Paris|2.373|46.3772|francesouth
francesouth|France South|France|Europe|Marseille|2.1972|43.8345|francecentral
germanywestcentral|Germany West Central|Germany|Europe|Frankfurt|8.682127|50.110924|germanynorth
germanynorth|Germany North|Germany|Europe|Berlin|8.806422|53.073635|germanywestcentral
swedencentral|Sweden Central|Sweden|Europe|Gävle|17.14127|60.67488|swedensouth
swedensouth|Sweden South|Sweden|Europe|Malmo|13.0007|55.6059|swedencentral
australiaeast|Australia East|Australia|Asia Pacific|New South Wales|151.21|-33.86|australiasoutheast
australiasoutheast|Australia Southeast|Australia|Asia Pacific|Victoria|144.96|-37.81|australiaeast
southeastasia|Southeast Asia|Asia Pacific|Asia Pacific|Singapore|103.833|1.283|eastasia
eastasia|East Asia|Asia Pacific|Asia Pacific|Hong Kong|114.188|22.267|southeastasia
japaneast|Japan East|Japan|Asia Pacific|Tokyo, Saitama|139.77|35.68|japanwest
japanwest|Japan West|Japan|Asia Pacific|Osaka|135.5022|34.6939|japaneast
"""

REGIONS: tuple[Region, ...] = tuple(
    Region(*line.split("|")) for line in _TABLE.strip().splitlines()
)

_BY_KEY: dict[str, Region] = {}
for _r in REGIONS:
    _BY_KEY[_r.name] = _r
    _BY_KEY[_r.display_name.replace(" ", "").lower()] = _r


def find(location: str) -> Region | None:
    """A region by name or display name, ignoring case and spaces (`UK South` = `uksouth`)."""
    return _BY_KEY.get(location.replace(" ", "").lower())


def names() -> list[str]:
    return [r.name for r in REGIONS]


def location_body(subscription_id: str, region: Region) -> JSON:
    """One entry of `GET /subscriptions/{s}/locations` (api 2022-12-01 shape)."""
    base = f"/subscriptions/{subscription_id}/locations"
    return {
        "id": f"{base}/{region.name}",
        "name": region.name,
        "type": "Region",
        "displayName": region.display_name,
        "regionalDisplayName": region.regional_display_name(),
        "metadata": {
            "regionType": "Physical",
            "regionCategory": "Recommended",
            "geography": region.geography,
            "geographyGroup": region.geography_group,
            "longitude": region.longitude,
            "latitude": region.latitude,
            "physicalLocation": region.physical_location,
            "pairedRegion": [{"name": region.paired, "id": f"{base}/{region.paired}"}],
        },
        "availabilityZoneMappings": [
            {"logicalZone": str(z), "physicalZone": f"{region.name}-az{z}"} for z in (1, 2, 3)
        ],
    }
