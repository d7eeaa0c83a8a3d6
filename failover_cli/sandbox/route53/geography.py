"""Where AWS regions are: location for geolocation routing, rough latency between them.

Latency routing answers with the region nearest the client; Route 53
measures that, the sandbox looks it up here.
"""

from __future__ import annotations

# (continent, country, subdivision) of each region's location: for
# geolocation routing from the client region, and the order gives each region
# its fake address.
REGION_LOCATIONS: dict[str, tuple[str, str, str]] = {
    "us-east-1": ("NA", "US", "VA"),
    "us-east-2": ("NA", "US", "OH"),
    "us-west-1": ("NA", "US", "CA"),
    "us-west-2": ("NA", "US", "OR"),
    "ca-central-1": ("NA", "CA", ""),
    "ca-west-1": ("NA", "CA", ""),
    "mx-central-1": ("NA", "MX", ""),
    "sa-east-1": ("SA", "BR", ""),
    "eu-west-1": ("EU", "IE", ""),
    "eu-west-2": ("EU", "GB", ""),
    "eu-west-3": ("EU", "FR", ""),
    "eu-central-1": ("EU", "DE", ""),
    "eu-central-2": ("EU", "CH", ""),
    "eu-north-1": ("EU", "SE", ""),
    "eu-south-1": ("EU", "IT", ""),
    "eu-south-2": ("EU", "ES", ""),
    "il-central-1": ("AS", "IL", ""),
    "me-central-1": ("AS", "AE", ""),
    "me-south-1": ("AS", "BH", ""),
    "af-south-1": ("AF", "ZA", ""),
    "ap-south-1": ("AS", "IN", ""),
    "ap-south-2": ("AS", "IN", ""),
    "ap-east-1": ("AS", "HK", ""),
    "ap-east-2": ("AS", "TW", ""),
    "ap-northeast-1": ("AS", "JP", ""),
    "ap-northeast-2": ("AS", "KR", ""),
    "ap-northeast-3": ("AS", "JP", ""),
    "ap-southeast-1": ("AS", "SG", ""),
    "ap-southeast-2": ("OC", "AU", ""),
    "ap-southeast-3": ("AS", "ID", ""),
    "ap-southeast-4": ("OC", "AU", ""),
    "ap-southeast-5": ("AS", "MY", ""),
    "ap-southeast-6": ("OC", "NZ", ""),
    "ap-southeast-7": ("AS", "TH", ""),
}
REGION_INDEX = {region: i for i, region in enumerate(REGION_LOCATIONS)}

# Rough median round trips between regions in milliseconds, from public
# inter-region ping measurements (cloudping-style), rounded. Only the order
# matters to latency routing; pairs missing here use `_area_latency_ms`.
_ROUND_TRIPS_MS: dict[tuple[str, str], int] = {
    ("us-east-1", "us-east-2"): 12,
    ("us-east-1", "us-west-1"): 62,
    ("us-east-1", "us-west-2"): 67,
    ("us-east-1", "ca-central-1"): 16,
    ("us-east-1", "eu-west-1"): 68,
    ("us-east-1", "eu-west-2"): 76,
    ("us-east-1", "eu-central-1"): 90,
    ("us-east-1", "ap-northeast-1"): 145,
    ("us-east-1", "ap-southeast-1"): 215,
    ("us-east-1", "ap-southeast-2"): 197,
    ("us-east-1", "sa-east-1"): 115,
    ("us-east-2", "us-west-1"): 50,
    ("us-east-2", "us-west-2"): 50,
    ("us-east-2", "ca-central-1"): 25,
    ("us-east-2", "eu-west-1"): 80,
    ("us-east-2", "eu-central-1"): 98,
    ("us-east-2", "ap-northeast-1"): 135,
    ("us-east-2", "sa-east-1"): 125,
    ("us-west-1", "us-west-2"): 22,
    ("us-west-1", "ca-central-1"): 75,
    ("us-west-1", "eu-west-1"): 130,
    ("us-west-1", "eu-central-1"): 147,
    ("us-west-1", "ap-northeast-1"): 107,
    ("us-west-1", "ap-southeast-1"): 172,
    ("us-west-1", "ap-southeast-2"): 140,
    ("us-west-1", "sa-east-1"): 175,
    ("us-west-2", "ca-central-1"): 60,
    ("us-west-2", "eu-west-1"): 125,
    ("us-west-2", "eu-central-1"): 140,
    ("us-west-2", "ap-northeast-1"): 100,
    ("us-west-2", "ap-southeast-1"): 165,
    ("us-west-2", "ap-southeast-2"): 140,
    ("us-west-2", "sa-east-1"): 180,
    ("eu-west-1", "eu-west-2"): 12,
    ("eu-west-1", "eu-central-1"): 25,
    ("eu-west-1", "ap-northeast-1"): 205,
    ("eu-west-1", "ap-southeast-1"): 175,
    ("eu-west-1", "sa-east-1"): 180,
    ("eu-west-2", "eu-central-1"): 15,
    ("eu-central-1", "ap-northeast-1"): 225,
    ("eu-central-1", "ap-southeast-1"): 155,
    ("ap-northeast-1", "ap-southeast-1"): 70,
    ("ap-northeast-1", "ap-southeast-2"): 105,
    ("ap-southeast-1", "ap-southeast-2"): 92,
}
SAME_REGION_MS = 1
_SAME_CONTINENT_MS = 40
_NEIGHBOUR_CONTINENTS_MS = 120  # NA-SA, EU-AF, EU-AS (Middle East), AS-OC
_FAR_MS = 220
_NEIGHBOURS = {
    frozenset({"NA", "SA"}),
    frozenset({"EU", "AF"}),
    frozenset({"EU", "AS"}),
    frozenset({"AS", "OC"}),
    frozenset({"NA", "EU"}),
}


def latency_ms(client_region: str, region: str) -> int:
    """Rough round trip from `client_region` to `region`, for latency routing."""
    if client_region == region:
        return SAME_REGION_MS
    known = _ROUND_TRIPS_MS.get((client_region, region)) or _ROUND_TRIPS_MS.get(
        (region, client_region)
    )
    return known if known is not None else _area_latency_ms(client_region, region)


def _area_latency_ms(a: str, b: str) -> int:
    """Crude fallback for pairs not in the table: by continent."""
    where_a, where_b = REGION_LOCATIONS.get(a), REGION_LOCATIONS.get(b)
    if where_a is None or where_b is None:
        same_prefix = a.split("-", 1)[0] == b.split("-", 1)[0]
        return _SAME_CONTINENT_MS if same_prefix else _FAR_MS
    if where_a[0] == where_b[0]:
        return _SAME_CONTINENT_MS
    if frozenset({where_a[0], where_b[0]}) in _NEIGHBOURS:
        return _NEIGHBOUR_CONTINENTS_MS
    return _FAR_MS
