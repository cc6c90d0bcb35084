"""The retention rule to the day: when a quiet household is forgotten and an inactive case closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.outputs_v1 import DebtRef
from signals.cases import outcome_id
from signals.retention import (
    NO_CONTACT,
    NO_REACTION,
    SYSTEM_ACTOR,
    InactiveCase,
    close_inactive_case,
    household_forget_at,
    may_forget,
    quiet_since,
    state_forget_at,
)
from signals.state import OpenSignal
from streams.worker.settings import SettingsError, load_settings
from tests.unit.factories import at, event, play

# Paid off and closed at 14:00 Amsterdam time (CET) on Tuesday 10 March 2026.
QUIET = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)


def _forget(now: datetime, *, days: int = 365, open_case: bool = False) -> bool:
    return may_forget(quiet_since=QUIET, open_case=open_case, now=now, days=days)


def test_a_quiet_household_is_forgotten_at_the_start_of_the_amsterdam_day_a_year_later() -> None:
    # 10 March 2027 starts at 23:00 UTC on the 9th (CET).
    boundary = household_forget_at(QUIET, 365)
    assert boundary == datetime(2027, 3, 9, 23, 0, tzinfo=UTC)
    assert not _forget(datetime(2027, 3, 9, 11, 0, tzinfo=UTC))  # noon on 9 March, the day before
    assert not _forget(boundary - ONE_SECOND)  # 23:59:59 on 9 March in Amsterdam
    assert _forget(boundary)  # 00:00 on 10 March in Amsterdam
    assert _forget(boundary + timedelta(days=1))  # the day after


def test_the_boundary_follows_the_amsterdam_calendar_across_daylight_saving_time() -> None:
    # 00:30 CET on Sunday 29 March 2026, the night clocks go forward: quiet on the local 29th.
    quiet = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    boundary = household_forget_at(quiet, 180)
    # 180 local days later is 25 September 2026, which starts at 22:00 UTC on the 24th (CEST).
    assert boundary == datetime(2026, 9, 24, 22, 0, tzinfo=UTC)

    def forget(now: datetime) -> bool:
        return may_forget(quiet_since=quiet, open_case=False, now=now, days=180)

    assert not forget(boundary - ONE_SECOND)
    assert forget(boundary)
    assert forget(boundary + timedelta(days=1))


def test_an_open_case_or_an_open_debt_keeps_the_household() -> None:
    long_after = QUIET + timedelta(days=3650)
    assert not _forget(long_after, open_case=True)
    assert not may_forget(quiet_since=None, open_case=False, now=long_after, days=365)


def test_a_household_with_an_open_debt_is_never_quiet() -> None:
    state, _ = play(event("debt.opened", occurred_at=at(0)))
    assert quiet_since(state) is None
    assert state_forget_at(state, 365) is None


def test_a_household_is_quiet_from_its_last_event_once_every_debt_is_settled() -> None:
    closed_at = at(40)
    state, _ = play(event("debt.opened", occurred_at=at(0)), event("debt.closed", occurred_at=closed_at))
    assert quiet_since(state) == closed_at
    assert state_forget_at(state, 365) == household_forget_at(closed_at, 365)
    # An unresolved signal keeps it, even with nothing left to pay.
    signalled = state.model_copy(
        update={"open_signal": OpenSignal(signal_id="s-1", raised_at=at(10), team_id="centrum")}
    )
    assert quiet_since(signalled) is None


def _case(*, reached: bool, last: datetime = QUIET) -> InactiveCase:
    return InactiveCase(
        case_id="case-1",
        household_key="1011AB-12A",
        team_id="centrum",
        last_activity_at=last,
        reached=reached,
        debts=(DebtRef(source="housing", creditor_id="woonstad", debt_ref="R1"),),
    )


def test_an_inactive_case_is_closed_by_the_system_from_the_start_of_the_day_the_period_ends() -> None:
    # Last activity on 10 March 2026 (Amsterdam); 90 days later is 8 June, starting 22:00 UTC on the 7th.
    boundary = datetime(2026, 6, 7, 22, 0, tzinfo=UTC)
    assert close_inactive_case(_case(reached=False), now=boundary - timedelta(hours=12), days=90) is None
    assert close_inactive_case(_case(reached=False), now=boundary - ONE_SECOND, days=90) is None
    closed = close_inactive_case(_case(reached=False), now=boundary, days=90)
    assert closed is not None
    assert close_inactive_case(_case(reached=False), now=boundary + timedelta(days=1), days=90) is not None
    assert closed.actor == SYSTEM_ACTOR
    assert closed.event_id == outcome_id("case-1")  # the case's one outcome: a team's outcome wins
    assert closed.datum.isoformat() == "2026-06-08"
    assert closed.debts == _case(reached=False).debts  # the creditors hear "not picked up"


@pytest.mark.parametrize(("reached", "resultaat"), [(True, NO_REACTION), (False, NO_CONTACT)])
def test_the_ddas_result_says_whether_the_household_was_ever_reached(reached: bool, resultaat: str) -> None:
    closed = close_inactive_case(_case(reached=reached), now=QUIET + timedelta(days=200), days=90)
    assert closed is not None
    assert closed.resultaat == resultaat


def test_the_forget_period_must_outlast_the_consecutive_look_back_and_the_dedup_horizon() -> None:
    assert load_settings().household_forget_days == 365
    assert load_settings(household_forget_days=184).household_forget_days == 184  # look-back 183
    with pytest.raises(SettingsError, match="household_forget_days"):
        load_settings(household_forget_days=183)
    with pytest.raises(SettingsError, match="household_forget_days"):
        load_settings(retention_months=24, rules={"consecutive_lookback_days": 400})
    with pytest.raises(SettingsError, match="household_forget_days"):
        load_settings(household_forget_days=200, rules={"dedup_horizon_days": 200})
