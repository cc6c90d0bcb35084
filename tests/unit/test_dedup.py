"""Same id, same content is a duplicate; same id, other content is a conflict; within the dedup horizon."""

from __future__ import annotations

from datetime import timedelta, timezone

from schemas.internal_v1 import AcceptedEvent
from signals.household import handle_event
from signals.overview import HouseholdState, content_fingerprint, dedup_verdict, fold_new
from signals.policy import Policy
from streams.worker.dedup import RecentIds, raw_fingerprint
from streams.worker.state_codec import decode_state, encode_state
from tests.unit.factories import HOUSEHOLD, ROUTE, at, event

HORIZON = Policy.default().dedup_horizon_days


def _folded(*events: AcceptedEvent) -> HouseholdState:
    state = HouseholdState(household_key=HOUSEHOLD, as_of=events[0].event.occurred_at)
    for accepted in events:
        state = fold_new(state, accepted, dedup_horizon_days=HORIZON)
    return state


def _other_amount(accepted: AcceptedEvent) -> AcceptedEvent:
    changed = accepted.event.model_copy(update={"amount_cents": accepted.event.amount_cents + 100})
    return accepted.model_copy(update={"event": changed})


def test_the_same_event_again_is_a_duplicate_that_changes_nothing() -> None:
    opened = event("debt.opened", event_id="e-1")
    state = _folded(opened)
    outcome = handle_event(state, opened, policy=Policy.default(), route=ROUTE)
    assert outcome.duplicate
    assert outcome.refused is None
    assert outcome.state == state
    assert outcome.effects == ()


def test_the_same_event_written_differently_is_still_a_duplicate() -> None:
    opened = event("debt.opened", event_id="e-1")
    amsterdam = opened.event.occurred_at.astimezone(timezone(timedelta(hours=1)))
    resent = event("debt.opened", event_id="e-1", occurred_at=amsterdam)  # same instant, other offset
    assert content_fingerprint(resent.event) == content_fingerprint(opened.event)
    assert dedup_verdict(_folded(opened), resent, dedup_horizon_days=HORIZON) == "duplicate"


def test_the_same_id_with_another_amount_is_refused_as_a_conflicting_duplicate() -> None:
    opened = event("debt.opened", event_id="e-1")
    state = _folded(opened)
    outcome = handle_event(state, _other_amount(opened), policy=Policy.default(), route=ROUTE)
    assert outcome.refused is not None
    assert outcome.refused.reason_class == "conflicting_duplicate"
    assert not outcome.duplicate
    assert outcome.state == state
    assert outcome.effects == ()
    assert "event_id" in outcome.refused.message


def test_the_same_id_of_another_creditor_is_a_new_event() -> None:
    opened = event("debt.opened", event_id="e-1")
    other = event("debt.opened", event_id="e-1", source="energy")
    assert dedup_verdict(_folded(opened), other, dedup_horizon_days=HORIZON) == "new"


def test_an_id_at_the_edge_of_the_horizon_is_still_known_and_beyond_it_treated_as_seen() -> None:
    first = event("debt.opened", event_id="e-1", occurred_at=at(0))
    later = event("debt.updated", event_id="e-2", occurred_at=at(HORIZON))  # as_of moves to exactly the edge
    state = _folded(first, later)
    assert [s.dedup_key for s in state.seen] == [first.event.dedup_key, later.event.dedup_key]
    assert dedup_verdict(state, _other_amount(first), dedup_horizon_days=HORIZON) == "conflict"
    assert dedup_verdict(state, first, dedup_horizon_days=HORIZON) == "duplicate"
    # One second further the first id is forgotten, and an event that old is dropped as seen, whatever it says.
    moved = _folded(first, event("debt.updated", event_id="e-3", occurred_at=at(HORIZON, hours=1 / 3600)))
    assert [s.dedup_key for s in moved.seen] == [moved.seen[0].dedup_key]
    assert dedup_verdict(moved, _other_amount(first), dedup_horizon_days=HORIZON) == "duplicate"


def test_a_state_stored_before_fingerprints_decodes_and_counts_its_ids_as_duplicates() -> None:
    opened = event("debt.opened", event_id="e-1")
    state = _folded(opened)
    old_json = state.model_dump_json().replace(f',"fp":"{state.seen[0].fp}"', "")
    assert '"fp"' not in old_json
    old = HouseholdState.model_validate_json(old_json)
    assert old.seen[0].fp is None
    assert decode_state(encode_state(old)) == old
    assert dedup_verdict(old, _other_amount(opened), dedup_horizon_days=HORIZON) == "duplicate"


def test_a_fingerprint_is_eight_bytes_per_seen_id() -> None:
    state = _folded(event("debt.opened", event_id="e-1"))
    assert all(s.fp is not None and len(bytes.fromhex(s.fp)) == 8 for s in state.seen)


def test_the_ingest_filter_drops_identical_bytes_only_and_passes_other_content_on() -> None:
    recent = RecentIds()
    raw, other = b'{"event_id":"e-1","amount_cents":100}', b'{"event_id":"e-1","amount_cents":200}'
    assert not recent.seen("housing|c|e-1", raw_fingerprint(raw))
    assert recent.seen("housing|c|e-1", raw_fingerprint(raw))
    assert not recent.seen("housing|c|e-1", raw_fingerprint(other))  # the household stage judges it
    assert recent.seen("housing|c|e-1", raw_fingerprint(raw))  # the first one is what it remembers
