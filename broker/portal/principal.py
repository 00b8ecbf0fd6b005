"""Who is signed in on the portal, and what they may do: ``Role`` and ``Agent`` live in
``broker.admin.principal`` (the domain code checks roles too, and must not import the portal);
the portal's modules import them from here or from there, the same objects."""

from broker.admin.principal import Agent, Role

__all__ = ["Agent", "Role"]
