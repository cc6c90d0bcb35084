"""The team pages' HTML, the validation of team changes, and the DDAS document, without a worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.readmodel.case_queries import AttemptView, CaseDetail, CaseSummary, OutcomeView, SignalView
from connectors.readmodel.report_queries import ReportCase
from streams.team import cases as cc
from streams.team import html as pages
from streams.team.auth import Principal
from streams.team.cbs_report import ReportError, uitwisselmodel
from tests.ddas import ddas_errors
from tests.unit import case_examples as ex

WHO = Principal(member_id="centrum-01", team_id=ex.TEAM, name="<script>alert(1)</script>", via="session")
TODAY = datetime.now(UTC).date()


def summary(**changes: Any) -> CaseSummary:
    sig = ex.signal("s1", priority="urgent")
    base: dict[str, Any] = {
        "case_id": ex.case_of(),
        "household_key": ex.HOUSEHOLD,
        "team_id": ex.TEAM,
        "gemeente_code": "GM0363",
        "period_start": date(2026, 9, 1),
        "period_end": date(2026, 9, 30),
        "first_signal_at": ex.SEPT,
        "last_signal_at": ex.SEPT,
        "priority": "urgent",
        "reasons": sig.reasons,
        "signals": (SignalView(sig, "Nog niet opgepakt", None),),
        "outcome": None,
    }
    return CaseSummary(**(base | changes))


def test_every_value_is_escaped_and_the_page_is_dutch_and_labelled() -> None:
    page = pages.inbox_page(WHO, 'Team "<b>"', [summary()])
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;b&gt;" in page
    assert page.startswith('<!DOCTYPE html>\n<html lang="nl">')
    assert 'name="viewport"' in page
    assert "Zeer dringend" in page
    assert "Huurachterstand" in page


def test_the_case_page_has_a_labelled_control_for_every_form_field() -> None:
    detail = CaseDetail(summary=summary(), attempts=(), overview=None)
    page = pages.case_page(WHO, "Buurtteam Centrum", detail, "req-12345678", "contactpoging")
    for control in ("soort", "datum", "dagdeel", "resultaat-keuze", "resultaat-datum", "status-s1"):
        assert f'<label for="{control}">' in page
        assert f'id="{control}"' in page
    assert "<legend>Inwoner bereikt?</legend>" in page
    assert "De contactpoging is vastgelegd." in page
    assert "<script" not in page.lower()


def test_a_closed_case_shows_its_outcome_instead_of_the_form() -> None:
    outcome = OutcomeView("Inwoner is overleden", date(2026, 9, 3), "centrum-01", ex.SEPT)
    detail = CaseDetail(summary=summary(outcome=outcome), attempts=(), overview=None)
    page = pages.case_page(WHO, "T", detail, "req-12345678", None)
    assert "Inwoner is overleden" in page
    assert 'name="resultaat"' not in page


def test_a_contact_attempt_is_validated_and_a_double_submit_gets_one_id() -> None:
    form = {
        "soort": "Telefoon",
        "bereikt": "ja",
        "datum": TODAY.isoformat(),
        "dagdeel": "Avond",
        "request_id": "abcdefgh",
    }
    first, second = cc.contact_attempt(WHO, summary(), form), cc.contact_attempt(WHO, summary(), form)
    assert first.event_id == second.event_id
    assert first.actor == "centrum-01"
    assert first.bereikt is True
    for field, value in [
        ("soort", "Duif"),
        ("bereikt", "misschien"),
        ("datum", "gisteren"),
        ("dagdeel", "Nacht"),
    ]:
        with pytest.raises(cc.CaseError) as caught:
            cc.contact_attempt(WHO, summary(), form | {field: value})
        assert (caught.value.status, caught.value.field) == (400, field)
    with pytest.raises(cc.CaseError, match="toekomst"):
        cc.contact_attempt(WHO, summary(), form | {"datum": (TODAY + timedelta(days=5)).isoformat()})


def test_an_outcome_carries_the_signalled_debts_and_a_second_one_is_a_conflict() -> None:
    event = cc.outcome(WHO, summary(), {"resultaat": "Vervolghulp en/of verwijzing"})
    assert event.debts == (ex.RENT,)
    assert event.datum == TODAY
    closed = summary(outcome=OutcomeView("Inwoner is overleden", TODAY, "x", ex.SEPT))
    with pytest.raises(cc.CaseError) as caught:
        cc.outcome(WHO, closed, {"resultaat": "Vervolghulp en/of verwijzing"})
    assert caught.value.status == 409


def test_a_status_change_must_name_a_signal_of_the_case() -> None:
    assert cc.status_change(WHO, summary(), "s1", {"status": "Opgepakt"}).status == "Opgepakt"
    with pytest.raises(cc.CaseError) as caught:
        cc.status_change(WHO, summary(), "someone-elses-signal", {"status": "Opgepakt"})
    assert caught.value.status == 404


def report_case(**changes: Any) -> ReportCase:
    base: dict[str, Any] = {
        "case_id": ex.case_of(),
        "household_key": "1011AB-12A-2",
        "period_start": date(2026, 9, 1),
        "period_end": date(2026, 9, 30),
        "matched_on": date(2026, 9, 1),
        "signals": (SignalView(ex.signal("s1"), "Opgepakt", None),),
        "attempts": (AttemptView("a1", "Huisbezoek", True, date(2026, 9, 3), None, "centrum-01", ex.SEPT),),
        "outcome": OutcomeView(
            "Vervolghulp en/of verwijzing financieel", date(2026, 9, 4), "centrum-01", ex.SEPT
        ),
        "picked_up_on": date(2026, 9, 3),
    }
    return ReportCase(**(base | changes))


def document(cases: list[ReportCase], gemeente: str = "GM0363") -> dict[str, Any]:
    return uitwisselmodel(
        cases,
        gemeente=gemeente,
        start=date(2026, 9, 1),
        end=date(2026, 9, 30),
        delivered_at=datetime(2026, 10, 2, 8, 0, tzinfo=UTC),
        supplier="vroegsignaal",
        organisation="Gemeente Amsterdam",
    )


def test_the_ddas_document_validates_against_the_official_schema() -> None:
    doc = document([report_case(), report_case(case_id="c2", outcome=None, picked_up_on=None, attempts=())])
    assert ddas_errors(doc) == []
    levering = doc["leveringen"][0]
    assert levering["gemeentecode"] == "0363"
    assert doc["aanleverdatumEnTijd"] == "2026-10-02T08:00:00Z"
    first = levering["vroegsignalen"][0]
    assert first["signaalpartner"] == {"type": "Huur"}
    assert first["bedrag"] == 950
    # Raised 1 Sep 23:59 UTC, which is 2 Sep 01:59 in Amsterdam; 45 days overdue: since 19 July.
    assert (first["signaaldatum"], first["ontstaansdatum"]) == ("2026-09-02", "2026-07-19")
    assert first["status"] == "Opgepakt"
    assert first["client"] == {"postcode": "1011AB", "huisnummer": "12", "huisnummertoevoeging": "A-2"}
    zaak = levering["vroegsignaalzaken"][0]
    assert zaak["datumOpgepakt"] == "2026-09-03"
    assert zaak["contactpogingen"][0] == {
        "soort": "Huisbezoek",
        "bereikt": True,
        "datum": "2026-09-03",
    }
    assert "resultaat" not in levering["vroegsignaalzaken"][1]


def test_an_empty_period_is_still_a_valid_document_and_a_bad_gemeente_is_refused() -> None:
    assert ddas_errors(document([])) == []
    with pytest.raises(ReportError, match="GM0363"):
        document([], gemeente="0363")
