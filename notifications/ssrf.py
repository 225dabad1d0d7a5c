"""Where an outgoing webhook may point: https in production, never a private, loopback, link-local or
metadata address unless an operator allowed it (``OUTGOING_WEBHOOKS_ALLOW_PRIVATE`` or the endpoint's flag).

The host is resolved and every address it resolves to is checked, at creation and again before each
delivery (a name may later resolve elsewhere); redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from notifications import conf
from waportal.errors import ApplicationError


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (replaceable in tests)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def address_allowed(address: str) -> bool:
    """Only public unicast addresses: private, loopback, link-local (cloud metadata), CGNAT, reserved are not."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def private_allowed(*, allow_private_network: bool) -> bool:
    return allow_private_network or bool(conf.setting("OUTGOING_WEBHOOKS_ALLOW_PRIVATE"))


def url_check(url: str, *, allow_private_network: bool = False, strict_dns: bool = False) -> None:
    """Raise ApplicationError(field="url") when ``url`` may not receive webhooks.

    A name that does not resolve is accepted at creation (``strict_dns`` False: it is checked again before
    each delivery) and refused before a delivery.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(_("Enter an http or https URL."), field="url")
    if parts.scheme != "https" and conf.require_https():
        raise ApplicationError(_("The URL must use https."), field="url")
    if parts.username or parts.password:
        raise ApplicationError(_("The URL may not carry a user name or password."), field="url")
    if private_allowed(allow_private_network=allow_private_network):
        return
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError):
            if strict_dns:
                raise ApplicationError(_("The URL's host name cannot be resolved."), field="url") from None
            return
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise ApplicationError(
            _("The URL points at a private, loopback or link-local address; only public addresses can "
              "receive webhooks."), field="url")
