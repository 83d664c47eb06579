"""Races on identity data, on a real PostgreSQL: exactly one of two officers wins."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.helpers import new_card_number, new_id_number
from unionhub import db
from unionhub.identity import service as identity
from unionhub.identity.models import CardStatus, JingkaCard, Member

pytestmark = pytest.mark.integration


def race(app, work: Callable[[], None], n: int = 2) -> list[BaseException | None]:
    barrier = threading.Barrier(n)
    results: list[BaseException | None] = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                work()
                db.session().commit()
            except BaseException as exc:  # collected, asserted by the caller
                db.session().rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_officers_replacing_one_card_at_once(pg_database_url, app, world):
    p = world.people["m1"]
    numbers = iter([new_card_number(), new_card_number()])
    lock = threading.Lock()

    def replace() -> None:
        with lock:
            number = next(numbers)
        card = identity.find_by_card(p.card_number).card
        identity.replace_card(db.session(), card, number)

    results = race(app, replace)
    assert sum(r is None for r in results) == 1, results
    loser = next(r for r in results if r is not None)
    assert isinstance(loser, identity.IdentityError | IntegrityError)
    with app.app_context():
        cards = db.session().scalars(select(JingkaCard).where(
            JingkaCard.member_id == p.member_id)).all()
        assert sorted(c.status for c in cards) == [CardStatus.ACTIVE, CardStatus.REPLACED]


def test_same_new_number_for_two_members_at_once(pg_database_url, app, world):
    number = new_card_number()
    people = iter([world.people["m1"], world.people["m2"]])
    lock = threading.Lock()

    def replace() -> None:
        with lock:
            person = next(people)
        card = identity.find_by_card(person.card_number).card
        identity.replace_card(db.session(), card, number)

    results = race(app, replace)
    assert sum(r is None for r in results) == 1, results
    with app.app_context():
        owners = db.session().scalar(select(func.count()).select_from(JingkaCard).where(
            JingkaCard.number_hash == identity.card_hash(number)))
        assert owners == 1


def test_same_person_registered_twice_at_once(pg_database_url, app, world):
    idn = new_id_number()

    def register() -> None:
        identity.create_member(db.session(), name="并发", id_number=idn,
                               org=db.session().merge(world.orgs["g1"]))

    results = race(app, register)
    assert sum(r is None for r in results) == 1, results
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Member).where(
            Member.id_number_hash == identity.id_hash(idn))) == 1
