"""The team pages' HTML, the validation of team changes, and the DDAS document, without a worker."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.creditor_directory import CreditorEntry, load_creditor_directory
from connectors.readmodel.case_queries import AttemptView, CaseDetail, CaseSummary, OutcomeView, SignalView
from connectors.readmodel.household_queries import HouseholdContact, HouseholdEvent
from connectors.readmodel.report_queries import ReportCase
from connectors.routing_files import RoutingFileError
from signals.calendar import local_day
from streams.team import cases as cc
from streams.team import html as pages
from streams.team.auth import Principal
from streams.team.cbs_report import ReportError, uitwisselmodel
from streams.team.pages import CONTACT_FORM, OUTCOME_FORM, form_errors
from streams.team.style import CSS, TOKENS
from tests.ddas import ddas_errors
from tests.unit import case_examples as ex
from tests.unit import readmodel_examples as rx

WHO = Principal(member_id="centrum-01", team_id=ex.TEAM, name="<script>alert(1)</script>", via="session")
TODAY = local_day(datetime.now(UTC))  # the Europe/Amsterdam day the forms default to (not UTC's)


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


# --- issue 19: templates, contact and timeline, forms that help, tokens -------------------------------


def _contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_default_tokens_meet_wcag_contrast_and_the_focus_ring_has_two_tones() -> None:
    t = {k.removeprefix("--utrecht-").removeprefix("--vs-"): v for k, v in TOKENS.items()}
    page, card, header = (
        t["document-background-color"],
        t["card-background-color"],
        t["page-header-background-color"],
    )
    for text, background in [
        (t["document-color"], page),
        (t["document-color"], card),
        (t["link-color"], page),
        (t["link-color"], card),
        (t["link-visited-color"], card),
        (t["page-header-color"], header),
        (t["page-footer-color"], t["page-footer-background-color"]),
        (t["button-primary-action-color"], t["button-primary-action-background-color"]),
        (t["button-secondary-action-color"], t["button-secondary-action-background-color"]),
        (t["alert-error-color"], t["alert-error-background-color"]),
        (t["alert-ok-color"], t["alert-ok-background-color"]),
        (t["form-field-invalid-color"], card),
        (t["hint-color"], page),
        (t["document-color"], t["table-header-background-color"]),
    ]:
        assert _contrast(text, background) >= 4.5, (text, background)
    # Non-text (WCAG 1.4.11): form borders and priority bars >= 3:1 against the card.
    for colour in (
        "form-control-border-color",
        "priority-urgent-color",
        "priority-high-color",
        "priority-normal-color",
    ):
        assert _contrast(t[colour], card) >= 3, colour
    # The focus ring: on every background an element can sit on, one of its two tones stands out >= 3:1,
    # and the two tones against each other too.
    dark, light = t["focus-outline-color"], t["focus-inverse-outline-color"]
    assert _contrast(dark, light) >= 3
    for background in (
        page,
        card,
        header,
        t["button-primary-action-background-color"],
        t["page-footer-background-color"],
    ):
        assert max(_contrast(dark, background), _contrast(light, background)) >= 3, background
    assert all(f"var({name})" in CSS for name in TOKENS if not name.startswith("--vs-max")), (
        "a token nobody uses"
    )
    assert "style=" not in CSS
    assert "<script" not in CSS


def _page_with_errors(
    form: dict[str, str], fields: dict[str, Any], validate: Any
) -> tuple[str, dict[str, str]]:
    errors, values = form_errors(validate, form, fields)
    detail = CaseDetail(summary=summary(), attempts=(), overview=None)
    return pages.case_page(WHO, "T", detail, "req-12345678", None, errors=errors, values=values), errors


def test_a_contact_attempt_with_mistakes_comes_back_with_every_mistake_in_dutch_and_the_typed_values() -> (
    None
):
    form = {"soort": "", "bereikt": "", "datum": "31-02-2026", "dagdeel": "Middag", "request_id": "abcdefgh"}
    page, errors = _page_with_errors(form, CONTACT_FORM, lambda f: cc.contact_attempt(WHO, summary(), f))
    assert set(errors) == {"soort", "bereikt", "datum"}
    assert "Er is iets niet goed ingevuld" in page
    for control, message in errors.items():
        assert f'<li><a href="#{control}">{message}</a></li>' in page  # the summary links to the field
        assert f'id="{control}-fout"' in page
        assert "'" + control + "'" not in message
        assert "soort" not in message.lower().replace("soort contact", "")
    assert 'id="soort" name="soort" required aria-invalid="true" aria-describedby="soort-fout"' in page
    assert 'id="datum" name="datum" type="date" value="31-02-2026" required aria-invalid="true"' in page
    assert '<option value="Middag" selected>' in page  # what was typed stays
    assert 'id="dagdeel" name="dagdeel" aria-invalid' not in page  # a right field is not marked
    assert "bijvoorbeeld" in errors["datum"]


def test_a_date_out_of_range_says_so_and_date_fields_start_at_today_in_amsterdam() -> None:
    future = (cc.today() + timedelta(days=10)).isoformat()
    form = {"soort": "Brief", "bereikt": "nee", "datum": future}
    _, errors = _page_with_errors(form, CONTACT_FORM, lambda f: cc.contact_attempt(WHO, summary(), f))
    assert errors == {
        "datum": "De datum van de contactpoging moet in het afgelopen jaar liggen en mag niet in de toekomst liggen."
    }
    page = pages.case_page(WHO, "T", CaseDetail(summary(), (), None), "req-12345678", None)
    today = cc.today().isoformat()
    assert f'id="datum" name="datum" type="date" value="{today}"' in page
    assert f'id="resultaat-datum" name="datum" type="date" value="{today}"' in page
    outcome_errors, _ = form_errors(lambda f: cc.outcome(WHO, summary(), f), {"resultaat": "x"}, OUTCOME_FORM)
    assert outcome_errors == {"resultaat-keuze": "Kies het eindresultaat van de zaak."}


def test_labels_are_unique_on_the_case_page() -> None:
    views = tuple(SignalView(ex.signal(f"s{n}"), "Nog niet opgepakt", None) for n in range(3))
    page = pages.case_page(WHO, "T", CaseDetail(summary(signals=views), (), None), "req-12345678", None)
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', page)
    assert len({for_ for for_, _ in labels}) == len(labels)
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_case_page_shows_contact_data_debts_with_where_to_pay_and_a_timeline() -> None:
    contact = HouseholdContact(
        name="F. <El> Amrani",
        street="Kerkstraat",
        house="12A",
        postcode="1011AB",
        city="Amsterdam",
        phones=("06 1234 5678",),
        emails=("f@example.org",),
        as_of=ex.SEPT,
        source="Woonstichting De Grachten",
    )
    events = [
        HouseholdEvent(date(2026, 7, 19), "debt_due", "Woonstichting De Grachten", 95000),
        HouseholdEvent(date(2026, 8, 1), "reminder", "Woonstichting De Grachten", None, "free"),
        HouseholdEvent(ex.SEPT, "signal", None, 126000, "urgent"),
        HouseholdEvent(date(2026, 9, 3), "attempt", None, None, "Telefoon, bereikt"),
    ]
    detail = CaseDetail(summary(), (), None)
    page = pages.case_page(
        WHO, "T", detail, "req-12345678", None, contact=contact, timeline=pages.timeline_of(events)
    )
    assert "F. &lt;El&gt; Amrani" in page
    assert "Kerkstraat 12A<br>1011 AB Amsterdam" in page
    assert '<a href="tel:0612345678">06 1234 5678</a>' in page
    assert '<a href="mailto:f@example.org">f@example.org</a>' in page
    assert (
        '<time datetime="2026-07-19">19-07-2026</time> <strong>Schuld bij Woonstichting De Grachten vervallen</strong> – hoofdsom € 950,00'
        in page
    )
    # An instant is shown as its day in Amsterdam: raised 1 Sep 23:59 UTC is 2 Sep there.
    assert (
        '<time datetime="2026-09-02">02-09-2026</time> <strong>Vroegsignaal</strong> – Zeer dringend, totaal € 1.260,00'
        in page
    )
    assert "Gratis herinnering van Woonstichting De Grachten" in page
    assert 'tabindex="0" role="region" aria-labelledby="tijdlijn"' in page
    no_contact = pages.case_page(WHO, "T", detail, "req-12345678", None)
    assert "Nog geen contactgegevens" in no_contact


def test_every_page_links_the_accessibility_statement_and_it_needs_no_login() -> None:
    for page in (
        pages.login_page(),
        pages.error_page(404, "Deze zaak bestaat niet.", WHO, "T"),
        pages.inbox_page(WHO, "T", []),
        pages.accessibility_page(),
    ):
        assert '<a href="/team/toegankelijkheid">Toegankelijkheidsverklaring</a>' in page
        assert "style=" not in page
        assert "<script" not in page
    assert "WCAG" in pages.accessibility_page()
    assert "Inloggen via de gemeente" in pages.login_page(oidc=True)
    assert "Inloggen via de gemeente" not in pages.login_page()


def test_a_creditors_file_with_a_wrong_entry_is_refused_naming_the_file(tmp_path: Path) -> None:
    good = tmp_path / "creditors.toml"
    good.write_text(
        '[[creditors]]\nsource = "energy"\ncreditor_id = "1"\nname = "E"\nurl = "https://e.example.org"\n',
        encoding="utf-8",
    )
    assert load_creditor_directory(good).get("energy:1") == CreditorEntry("E", None, "https://e.example.org")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[creditors]]\nsource = "energy"\ncreditor_id = "1"\nurl = "javascript:alert(1)"\n', encoding="utf-8"
    )
    with pytest.raises(RoutingFileError, match=r"bad\.toml"):
        load_creditor_directory(bad)


def test_each_creditor_shows_where_to_arrange_payment_in_the_table_and_on_a_phone_card() -> None:
    detail = CaseDetail(summary(), (), rx.main_overview())
    where = {
        "housing:woonstad": pages.CreditorContact("020 123 45 67", "https://woonstad.example.org/regeling")
    }
    page = pages.case_page(WHO, "T", detail, "req-12345678", None, creditors=where)
    # Once in the table (from 40rem) and once on the card (a phone): CSS shows one of them.
    assert page.count('<a href="tel:0201234567">020 123 45 67</a>') == 2
    assert page.count('<a href="https://woonstad.example.org/regeling">website') == 2
    assert "regeling: contact niet bekend" in page  # eneco: not in the directory
    assert "nog niets bekend" not in page
    unknown = pages.case_page(WHO, "T", detail, "req-12345678", None)
    assert "voor deze schuldeisers is er nog niets bekend" in unknown
