"""The edge's parsers are total: any header, cookie, token or form value gives a value or 'no', never an exception."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.team_access import default_team_directory
from schemas.cases_v1 import CONTACTSOORTEN
from streams.team import cases as cc
from streams.team.auth import SESSION_COOKIE, SessionKeys, TeamAuth
from streams.worker.edge import _field_text, bearer_token, cookie, usable_text
from streams.worker.ingest_http import authenticate
from streams.worker.settings import CreditorToken
from tests.unit.test_team_auth import DictSessions
from tests.unit.test_team_pages import WHO, summary

# What aiohttp hands over for bytes that are not UTF-8: lone surrogates (surrogateescape).
_header_text = st.one_of(st.text(), st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")))


@given(_header_text)
def test_bearer_token_is_total_and_gives_printable_ascii_or_nothing(value: str) -> None:
    token = bearer_token({"Authorization": value})
    assert token is None or token == "" or (token.isascii() and token.isprintable())
    if token:
        token.encode("ascii")  # what hashing and comparing need


@given(_header_text)
def test_cookie_is_total_and_gives_printable_ascii_or_nothing(value: str) -> None:
    found = cookie({"c": value}, "c")
    assert found is None or (found.isascii() and found.isprintable() and found == value)


def test_the_measured_inputs_are_no_credentials() -> None:
    assert bearer_token({"Authorization": "Bearer t\u00f6ken"}) == ""
    assert bearer_token({"Authorization": "Bearer \udcff\udcfe"}) == ""
    assert bearer_token({"Authorization": "Basic abc"}) is None
    assert bearer_token({"Authorization": "bearer  abc  "}) == "abc"
    assert cookie({SESSION_COOKIE: "caf\u00e9.\u00e9"}, SESSION_COOKIE) is None


@given(st.one_of(st.text(), st.binary()))
def test_a_form_value_is_text_that_can_be_stored_or_refused(value: str | bytes) -> None:
    text = _field_text(value)
    assert text is None or usable_text(text)


def test_a_file_or_undecodable_bytes_are_no_form_value() -> None:
    assert _field_text(b"\xff") is None
    assert _field_text(bytearray(b"ja")) == "ja"
    assert _field_text(object()) is None  # aiohttp's FileField
    assert not usable_text("a\udcffb")


KEY = b"k" * 32


@given(_header_text, _header_text)
def test_team_auth_answers_none_for_any_bearer_or_cookie_it_cannot_read(
    authorization: str, session: str
) -> None:
    auth = TeamAuth(
        default_team_directory(), SessionKeys(KEY), DictSessions(), public_origin="http://127.0.0.1:1"
    )
    who = asyncio.run(auth.authenticate({"Authorization": authorization}, {SESSION_COOKIE: session}))
    assert who is None or who.via == "bearer"  # only a real demo token could be drawn, never an exception
    assert auth.login(session) is None or session.strip().isascii()


def test_a_non_ascii_cookie_or_token_is_refused_not_an_error() -> None:
    auth = TeamAuth(
        default_team_directory(), SessionKeys(KEY), DictSessions(), public_origin="http://127.0.0.1:1"
    )
    assert asyncio.run(auth.authenticate({}, {SESSION_COOKIE: "caf\u00e9.abc"})) is None
    assert asyncio.run(auth.verify("\u00e9.\u00e9")) is None
    assert asyncio.run(auth.authenticate({"Authorization": "Bearer t\u00f6ken"}, {})) is None
    assert auth.login("t\u00f6ken\udcff") is None


@given(_header_text)
def test_a_creditor_token_that_is_no_token_authenticates_nobody(authorization: str) -> None:
    tokens = {"woonstad": CreditorToken(source="housing", token_sha256="0" * 64)}
    assert authenticate(tokens, {"Authorization": authorization}) is None


@pytest.mark.parametrize("bereikt", [[], {}, [1], {"a": 1}, 2.5, None])
def test_a_json_value_of_another_shape_is_a_400_not_an_unhashable_type(bereikt: object) -> None:
    form = {"soort": CONTACTSOORTEN[0], "bereikt": bereikt, "datum": datetime.now(UTC).date().isoformat()}
    with pytest.raises(cc.CaseError) as refused:
        cc.contact_attempt(WHO, summary(), form)
    assert (refused.value.status, refused.value.field) == (400, "bereikt")
