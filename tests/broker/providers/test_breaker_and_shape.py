"""The circuit breaker's state machine (driven clock) and the payload shape checker."""

from __future__ import annotations

import pytest

from broker.providers.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from broker.providers.shape import ISO_DATE, Nullable, Omittable, OneOf, Pattern, problems


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_only():
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN and not breaker.allow()


def test_half_open_after_reset_allows_one_trial():
    clock = Clock()
    breaker = CircuitBreaker(1, 10.0, clock)
    breaker.record_failure()
    clock.now = 9.99
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow() and breaker.state == HALF_OPEN
    assert not breaker.allow()  # the trial is in flight
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.allow() and breaker.allow()


def test_failed_trial_reopens_from_now():
    clock = Clock()
    breaker = CircuitBreaker(1, 10.0, clock)
    breaker.record_failure()
    clock.now = 15.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    clock.now = 24.9
    assert not breaker.allow()
    clock.now = 25.0
    assert breaker.allow()


def test_cancelled_trial_lets_the_next_caller_try():
    clock = Clock()
    breaker = CircuitBreaker(1, 1.0, clock)
    breaker.record_failure()
    clock.now = 1.0
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


@pytest.mark.parametrize(("failures", "reset"), [(0, 1.0), (1, -1.0)])
def test_breaker_settings_are_checked(failures, reset):
    with pytest.raises(ValueError):
        CircuitBreaker(failures, reset)


PERSON = {
    "nom": str,
    "age": int,
    "taille": float,
    "inscrit": bool,
    "naissance": ISO_DATE,
    "sexe": OneOf("F", "M"),
    "usage": Nullable(str),
    "note": Omittable(str),
    "enfants": [{"prenom": str}],
    "code": Pattern(r"\d{5}"),
}
GOOD = {
    "nom": "X",
    "age": 3,
    "taille": 1,
    "inscrit": False,
    "naissance": "2001-02-03",
    "sexe": "F",
    "usage": None,
    "enfants": [{"prenom": "Y"}],
    "code": "75107",
}


def test_a_conforming_value_has_no_problems():
    assert problems(PERSON, GOOD) == []
    assert problems(PERSON, GOOD | {"extra": [1, 2]}) == []  # providers add fields


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"age": True}, "$.age: expected integer"),  # a boolean is not a number
        ({"age": "3"}, "$.age: expected integer"),
        ({"taille": "1.80"}, "$.taille: expected number"),
        ({"inscrit": 1}, "$.inscrit: expected boolean"),
        ({"naissance": "03/02/2001"}, "$.naissance: expected a string matching"),
        ({"sexe": "f"}, "$.sexe: expected one of 'F', 'M'"),
        ({"usage": 3}, "$.usage: expected string"),
        ({"enfants": {"prenom": "Y"}}, "$.enfants: expected an array"),
        ({"enfants": [{"prenom": "Y"}, {"nom": "Z"}]}, "$.enfants[1].prenom: missing"),
        ({"code": "7510"}, "$.code: expected a string matching"),
        ({"note": None}, "$.note: expected string"),
    ],
)
def test_problems_name_the_path_not_the_value(change, problem):
    found = problems(PERSON, GOOD | change)
    assert len(found) == 1 and found[0].startswith(problem), found
    assert all(v not in found[0] for v in change.values() if isinstance(v, str) and len(v) > 2)


def test_missing_keys_and_wrong_roots():
    assert problems(PERSON, {k: v for k, v in GOOD.items() if k != "nom"}) == ["$.nom: missing"]
    assert problems(PERSON, [GOOD]) == ["$: expected an object"]
    assert len(problems(PERSON, {})) == 5  # bounded
