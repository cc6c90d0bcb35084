from datetime import UTC, datetime, timedelta

from streams.worker.deadlines import WakeupIndex

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_due_households_come_out_in_time_order_then_key_order() -> None:
    index = WakeupIndex()
    index.set("b", T0 + timedelta(days=2))
    index.set("a", T0 + timedelta(days=2))
    index.set("c", T0 + timedelta(days=1))
    index.set("d", T0 + timedelta(days=9))
    assert index.pop_due(T0 + timedelta(days=2)) == ["c", "a", "b"]
    assert len(index) == 1


def test_a_moved_wakeup_fires_only_at_its_new_time() -> None:
    index = WakeupIndex()
    index.set("a", T0 + timedelta(days=1))
    index.set("a", T0 + timedelta(days=5))
    assert index.pop_due(T0 + timedelta(days=2)) == []
    assert index.next_due() == T0 + timedelta(days=5)
    assert index.pop_due(T0 + timedelta(days=5)) == ["a"]


def test_a_cleared_wakeup_never_fires() -> None:
    index = WakeupIndex()
    index.set("a", T0)
    index.set("a", None)
    assert index.pop_due(T0 + timedelta(days=365)) == []
    assert index.next_due() is None
