"""The canteen's meal price, set by the family quotient."""

from __future__ import annotations

# Meal price by family quotient (upper bound of each bracket, price in euros).
PRICE_BRACKETS = ((400, "0,50 €"), (700, "1,20 €"), (1000, "2,10 €"), (1500, "3,00 €"))
FULL_PRICE = "4,20 €"


def meal_price(quotient: int) -> str:
    return next((price for bound, price in PRICE_BRACKETS if quotient <= bound), FULL_PRICE)
