import random
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


def test_households_leaving_and_joining_a_shared_instant_fire_once_each_in_key_order() -> None:
    index = WakeupIndex()
    day = T0 + timedelta(days=3)
    for key in ("e", "b", "d", "a"):
        index.set(key, day)
    index.set("b", T0 + timedelta(days=1))  # leaves the group
    index.set("d", None)  # cleared
    index.set("b", day)  # and back
    assert index.pop_due(T0 + timedelta(days=2)) == []
    assert len(index) == 3
    assert index.pop_due(day) == ["a", "b", "e"]
    assert index.pop_due(T0 + timedelta(days=365)) == []
    assert len(index) == 0


def test_an_instant_emptied_and_filled_again_fires_its_households_once() -> None:
    index = WakeupIndex()
    index.set("a", T0)
    index.set("a", None)
    index.set("b", T0)  # the instant is pushed a second time
    assert index.next_due() == T0
    assert index.pop_due(T0) == ["b"]
    assert index.next_due() is None


class _Reference:
    """The index as a plain dict, scanned: what WakeupIndex must answer, however it stores it."""

    def __init__(self) -> None:
        self.wakeups: dict[str, datetime] = {}

    def set(self, key: str, wakeup: datetime | None) -> None:
        if wakeup is None:
            self.wakeups.pop(key, None)
        else:
            self.wakeups[key] = wakeup

    def pop_due(self, stream_time: datetime) -> list[str]:
        due = sorted((t, k) for k, t in self.wakeups.items() if t <= stream_time)
        for _, key in due:
            del self.wakeups[key]
        return [key for _, key in due]

    def next_due(self) -> datetime | None:
        return min(self.wakeups.values(), default=None)


def test_random_histories_give_what_a_scan_of_every_household_gives() -> None:
    rng = random.Random(17)
    for _ in range(40):
        index, reference = WakeupIndex(), _Reference()
        now = T0
        for _ in range(400):
            roll = rng.random()
            if roll < 0.7:
                key = f"h{rng.randrange(30)}"
                # Mostly shared day starts, sometimes an instant of its own, sometimes nothing.
                wakeup: datetime | None = now + timedelta(days=rng.randrange(0, 6))
                if rng.random() < 0.2:
                    wakeup = now + timedelta(seconds=rng.randrange(0, 5 * 86_400))
                elif rng.random() < 0.1:
                    wakeup = None
                index.set(key, wakeup)
                reference.set(key, wakeup)
            else:
                now += timedelta(hours=rng.randrange(0, 40))
                assert index.pop_due(now) == reference.pop_due(now)
            assert len(index) == len(reference.wakeups)
            assert index.next_due() == reference.next_due()
