"""What every resolver gets: the settings and the server's services (the stores, the live hub,
the job registry), each found by its class.

The services are looked up by class so that this core module knows none of the feature folders
that define them: ``create_app`` (and a test, with fakes) decides what the server holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.types import Info

from streamlines.settings import Settings

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    services: dict[type, Any] = field(default_factory=dict)

    def get(self, kind: type[T]) -> T:
        """The service registered as ``kind`` (a test may register a fake under it)."""
        try:
            return self.services[kind]
        except KeyError:
            raise LookupError(f"the server holds no {kind.__name__}") from None


def context(info: Info) -> Context:
    """The server's context of a request (``StreamlinesGraphQL.get_context`` puts it there)."""
    return info.context["app"]


def service(info: Info, kind: type[T]) -> T:
    """The service registered as ``kind``, from a resolver."""
    return context(info).get(kind)
