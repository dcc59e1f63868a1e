"""Which address a per-IP limit counts: the peer, or the client named by our own proxies."""

import pytest
from pydantic import ValidationError

from bot.proxies import TrustedProxies
from bot.settings import GatewaySettings

OURS = TrustedProxies.parse("10.0.0.0/8, 127.0.0.1, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Nobody is trusted by default: the header is the client's own claim.
        ("198.51.100.4", ["1.2.3.4"], "198.51.100.4"),
        # From a trusted peer: the rightmost address that is not ours.
        ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["6.6.6.6, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
        ("127.0.0.1", ["6.6.6.6", "203.0.113.7,10.1.2.3"], "203.0.113.7"),  # repeated headers, in order
        # No header, or only our own hops: the furthest address we can vouch for.
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
        # Unreadable entries stop the walk at the last trusted hop.
        ("127.0.0.1", ["203.0.113.7, unknown"], "127.0.0.1"),
        ("127.0.0.1", ["garbage, 10.1.2.3"], "10.1.2.3"),
        # Ports, brackets, IPv6 and IPv4 reported through a dual-stack socket.
        ("127.0.0.1", ["203.0.113.7:51234"], "203.0.113.7"),
        ("fd00::1", ["[2001:db8::5]:443"], "2001:db8::5"),
        ("::ffff:10.0.0.2", ["2001:db8::5"], "2001:db8::5"),
        ("::ffff:198.51.100.4", ["1.2.3.4"], "198.51.100.4"),
    ],
)
def test_client_ip(peer, forwarded_for, client):
    trusted = OURS if peer != "198.51.100.4" else TrustedProxies.parse("")
    assert trusted.client_ip(peer, forwarded_for) == client


def test_a_peer_we_cannot_read_is_kept_as_it_is():
    assert OURS.client_ip(None, ["1.2.3.4"]) == "unknown"
    assert OURS.client_ip("unix-socket", ["1.2.3.4"]) == "unix-socket"


def test_bad_settings_fail_at_start_up():
    assert GatewaySettings(_env_file=None, trusted_proxies=" 10.0.0.1 , 172.16.0.0/12 ").trusted_proxies
    with pytest.raises(ValidationError, match="not-an-ip"):
        GatewaySettings(_env_file=None, trusted_proxies="10.0.0.1, not-an-ip")
