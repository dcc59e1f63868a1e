"""Who is the client behind our reverse proxies (`TRUSTED_PROXIES`), for per-IP rate limits.

Behind nginx every request comes from nginx's address, so one busy user would exhaust everyone's limit.
`X-Forwarded-For` names the real client, but anybody can send that header: it is believed only when the
socket peer is a trusted proxy, and then only as far as the chain of trusted proxies goes. Walking from the
right, each entry was appended by the hop to its right; the first address that is not one of ours is the
client. Everything further left was written by the client itself and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    """An IP address, also from `1.2.3.4:5678` / `[::1]:80` forms some proxies write; else None."""
    value = text.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; one client must have one key.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self._networks = tuple(networks)

    @classmethod
    def parse(cls, spec: str) -> TrustedProxies:
        """`"10.0.0.5, 172.16.0.0/12, ::1"`; raises ValueError naming a bad entry."""
        networks: list[Network] = []
        for item in spec.split(","):
            if not item.strip():
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {item.strip()!r}") from None
        return cls(networks)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self._networks)

    def client_ip(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
        """The client's address as a string; the peer itself when it is not a trusted proxy."""
        peer_address = _address(peer or "")
        if peer_address is None:
            return peer or "unknown"
        if not self.trusts(peer_address):
            return str(peer_address)
        hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
        client = peer_address
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # A trusted proxy wrote something we cannot read: stop at the last address we can vouch for.
                break
            client = address
            if not self.trusts(address):
                break
        return str(client)
