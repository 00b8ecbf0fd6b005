"""One adapter per data provider; ``broker.providers.registry`` builds them from settings."""

from broker.providers.adapters.cnaf import CnafAdapter
from broker.providers.adapters.cnous import CnousAdapter
from broker.providers.adapters.dgfip import DgfipAdapter
from broker.providers.adapters.dss import DssAdapter
from broker.providers.adapters.france_travail import FranceTravailAdapter
from broker.providers.adapters.men import MenAdapter
from broker.providers.adapters.mesri import MesriAdapter

__all__ = [
    "CnafAdapter",
    "CnousAdapter",
    "DgfipAdapter",
    "DssAdapter",
    "FranceTravailAdapter",
    "MenAdapter",
    "MesriAdapter",
]
