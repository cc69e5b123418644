"""The client's address of a request, believing a forwarding header only from a trusted proxy.

`client_address` is the peer (REMOTE_ADDR), unless the peer is one of TRUSTED_PROXIES; then
X-Forwarded-For is read from the right, skipping the trusted proxies, and the first address that
is not one is the client. What the login throttle counts by, what a login records, and who may
read /metrics: one rule, so that a proxy trusted for one is trusted for all.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str:
    """The client's address (see the module docstring), or "unknown" when the peer's is not an
    address: a forwarding header counts only when the peer that sent it is a trusted proxy."""
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return "unknown"
    trusted = networks(settings.TRUSTED_PROXIES)
    client = peer
    if is_within(peer, trusted):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for hop in reversed([hop for hop in forwarded.split(",") if hop.strip()]):
            address = parse_address(hop)
            if address is None:
                # Nothing left of a malformed entry can be trusted: the nearest known hop stays.
                break
            client = address
            if not is_within(address, trusted):
                break
    return str(client)


def parse_address(value: str) -> IPAddress | None:
    """An IP address, with or without a port (`203.0.113.7:443`, `[2001:db8::1]:443`); None if
    `value` is none."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def networks(values: list[str]) -> list[IPNetwork]:
    """Addresses or CIDR networks as networks (settings validate them at start-up)."""
    return [ipaddress.ip_network(value, strict=False) for value in values]


def is_within(address: IPAddress, within: list[IPNetwork]) -> bool:
    """Whether `address` is in one of the networks. An IPv4 address that a dual-stack socket shows
    as IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it is."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in within)
