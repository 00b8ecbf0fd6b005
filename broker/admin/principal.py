"""Who is signed in on the operators' portal, and what they may do. Defined here, below the
portal, so that the framework-free domain code (broker.admin) can check roles too; the portal
re-exports it as ``broker.portal.principal``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REQUESTER = "requester"  # an agent of an organisation (SIRET): files its requests
    INSTRUCTOR = "instructor"  # reviews requests, asks for changes, approves or refuses
    ADMINISTRATOR = "administrator"  # everything, the audit trail, roles, notices
    DATA_PROVIDER = "data_provider"  # sees the usage of its own products


@dataclass(frozen=True)
class Agent:
    id: str
    email: str
    given_name: str
    family_name: str
    siret: str | None  # the organisation they act for (requesters)
    organisation: str | None
    roles: frozenset[Role]
    providers: frozenset[str] = frozenset()  # data providers' keys (DATA_PROVIDER)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or self.email

    @property
    def actor(self) -> str:
        """How the audit trail names them."""
        return f"agent:{self.id} {self.email}"
