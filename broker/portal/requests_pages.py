"""Portal pages: habilitation requests: filing, reviewing, deciding.

Placeholder written by the foundation so that the portal app imports; the owner of this
area replaces it."""

CONTROLLERS: list = []
