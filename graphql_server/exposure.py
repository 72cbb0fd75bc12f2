"""The GraphQL server refuses to listen beyond this machine while it uses a secret everyone knows
(the local stack's built-in passwords and token), whatever the profile."""

from __future__ import annotations

import ipaddress

from streamlines.errors import UserError
from streamlines.settings import Settings


def is_loopback(host: str) -> bool:
    """``host`` is this machine only: localhost, 127.0.0.0/8 or ::1 (a name other than
    localhost may resolve anywhere: not loopback)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_secrets_for(settings: Settings) -> None:
    """A UserError when the server would listen on a non-loopback address with a default
    secret; nothing on a loopback address."""
    if is_loopback(settings.graphql_listen_host):
        return
    defaults = settings.default_secrets()
    if defaults:
        raise UserError(
            f"the GraphQL server would listen on {settings.graphql_listen_host}, beyond this "
            "machine, while "
            f"{', '.join(defaults)} {'is' if len(defaults) == 1 else 'are'} still the local "
            f"stack's built-in default{'' if len(defaults) == 1 else 's'}, which anyone can read "
            "in the source",
            hint="set secrets of your own there (and in the services that use them), or listen "
            "on 127.0.0.1 (--host, STREAMLINES_GRAPHQL_BIND or STREAMLINES_HOST)",
        )
