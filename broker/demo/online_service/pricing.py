"""The canteen's meal price, set by the family quotient (CAF or MSA), as a town's pricing grid
sets it (Code de l'éducation, article L. 131-13): the lowest bands at 1 € or less, and the full
price, that of the highest band, for a family that does not share its quotient."""

from __future__ import annotations

from dataclasses import dataclass

from broker.demo.online_service.language import Language
from broker.web.i18n import N_


@dataclass(frozen=True)
class Band:
    number: int
    low: int  # the lowest family quotient of the band
    high: int | None  # the highest, None for the last band
    cents: int  # the price of a meal

    def label(self, language: Language) -> str:
        """The band's quotients as the language writes numbers: de 1 001 à 1 500, 1,001 to 1,500."""
        low, high = language.number(self.low), language.number(self.high or 0)
        if self.low == 0:
            return language.gettext(N_("jusqu'à %(high)s"), high=high)
        if self.high is None:
            return language.gettext(N_("à partir de %(low)s"), low=low)
        return language.gettext(N_("de %(low)s à %(high)s"), low=low, high=high)


BANDS = (
    Band(1, 0, 450, 50),
    Band(2, 451, 700, 120),
    Band(3, 701, 1000, 210),
    Band(4, 1001, 1500, 300),
    Band(5, 1501, 2000, 360),
    Band(6, 2001, 3000, 420),
    Band(7, 3001, None, 540),
)
FULL_PRICE = BANDS[-1].cents  # without a family quotient


def band_for(quotient: int) -> Band:
    return next(band for band in BANDS if band.high is None or quotient <= band.high)


def grid_rows(
    language: Language, current: Band | None = None, without_quotient: bool = False
) -> list[dict[str, object]]:
    """The grid as shown: each band, then the full price without a quotient. The citizen's
    row is marked: that of ``current``, or the last one ``without_quotient``."""
    rows: list[dict[str, object]] = [
        {
            "band": str(band.number),
            "label": band.label(language),
            "price": language.euros(band.cents),
            "current": band == current,
        }
        for band in BANDS
    ]
    rows.append(
        {
            "band": "none",
            "label": language.gettext(N_("quotient familial non communiqué")),
            "price": language.euros(FULL_PRICE),
            "current": without_quotient,
        }
    )
    return rows
