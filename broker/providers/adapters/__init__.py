"""One adapter per data provider; ``broker.providers.registry`` builds them from settings."""

from broker.providers.adapters.ants import AntsAdapter
from broker.providers.adapters.cnaf import CnafAdapter
from broker.providers.adapters.cnous import CnousAdapter
from broker.providers.adapters.dgfip import DgfipAdapter
from broker.providers.adapters.dsnj import DsnjAdapter
from broker.providers.adapters.dss import DssAdapter
from broker.providers.adapters.france_travail import FranceTravailAdapter
from broker.providers.adapters.gip_mds import GipMdsAdapter
from broker.providers.adapters.men import MenAdapter
from broker.providers.adapters.mesri import MesriAdapter
from broker.providers.adapters.sdh import SdhAdapter

__all__ = [
    "AntsAdapter",
    "CnafAdapter",
    "CnousAdapter",
    "DgfipAdapter",
    "DsnjAdapter",
    "DssAdapter",
    "FranceTravailAdapter",
    "GipMdsAdapter",
    "MenAdapter",
    "MesriAdapter",
    "SdhAdapter",
]
