"""`vroegsignaal retention`: the daily job that closes inactive cases and forgets what is past its period.

Three steps, each safe to repeat (a CronJob that runs twice, or after a crash, changes nothing more):
1. open cases with no activity for `case_inactive_close_days` are closed by the system: an
   `OutcomeRecorded` on the case-events topic, like a team's, so the read model, the audit log
   and the creditors' feedback follow from the topic (its id is the case's one outcome id);
2. cases closed more than `retention_months` ago lose their personal data (anonymous counts stay);
3. households the rule of `signals.retention` forgets lose their rows in the read model. The
   worker applies the same rule to its stream table on the clock (streams/worker/household.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaProducer

from connectors.kafka.admin import bootstrap_of
from connectors.kafka.partitions import partition_of_household
from connectors.kafka.security import start_client
from connectors.readmodel import ReadModel
from connectors.readmodel.retention import (
    RetentionResult,
    forget_quiet_households,
    open_cases_with_activity,
    purge_closed_cases,
)
from schemas.cases_v1 import OutcomeRecorded
from signals.retention import close_inactive_case
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

__all__ = ["RetentionRun", "retention_cutoff", "run_retention"]


@dataclass
class RetentionRun(RetentionResult):
    """What one run did: cases closed for inactivity, households forgotten, and the purge's result."""

    closed: tuple[OutcomeRecorded, ...] = ()
    forgotten: tuple[str, ...] = ()


def retention_cutoff(now: datetime, months: int) -> datetime:
    """`months` calendar months before `now` (the day clamped to the month's length).

    >>> retention_cutoff(datetime(2026, 3, 31, 3, 0, tzinfo=UTC), 1).isoformat()
    '2026-02-28T03:00:00+00:00'
    """
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    next_month = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return now.replace(year=year, month=month + 1, day=min(now.day, last_day))


async def run_retention(settings: Settings, *, dry_run: bool, now: datetime | None = None) -> RetentionRun:
    """Close inactive cases, purge cases closed before the cutoff, forget quiet households; print each."""
    now = now or datetime.now(UTC)
    cutoff = retention_cutoff(now, settings.retention_months)
    read_model = await ReadModel.open(settings.effective_database_url)
    try:
        await read_model.migrate()
        days = settings.case_inactive_close_days
        due = [
            e
            for c in await open_cases_with_activity(read_model)
            if (e := close_inactive_case(c, now=now, days=days))
        ]
        if due and not dry_run:
            await _publish(settings, due)
        purged = await purge_closed_cases(read_model, cutoff=cutoff, dry_run=dry_run)
        forgotten = await forget_quiet_households(
            read_model, now=now, days=settings.household_forget_days, dry_run=dry_run
        )
    finally:
        await read_model.close()
    result = RetentionRun(**vars(purged), closed=tuple(due), forgotten=tuple(forgotten))
    _print(settings, result, cutoff=cutoff, dry_run=dry_run)
    return result


async def _publish(settings: Settings, events: list[OutcomeRecorded]) -> None:
    """Send the system's outcomes to the case-events topic, keyed and partitioned by household like a team's."""
    topic = TopicNames(settings.topic_prefix).case_events
    bootstrap, security = bootstrap_of(settings.broker_url), settings.kafka_security.client
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security.client_kwargs())
    await start_client(producer, bootstrap, security)  # a TLS or SASL failure names its setting
    try:
        for event in events:
            await producer.send_and_wait(
                topic,
                key=event.household_key.encode(),
                value=event.model_dump_json().encode(),
                partition=partition_of_household(event.household_key, settings.partitions),
            )
    finally:
        await producer.stop()


def _print(settings: Settings, result: RetentionRun, *, cutoff: datetime, dry_run: bool) -> None:
    print(
        f"retention: {'would close' if dry_run else 'closed'} {len(result.closed)} case(s) without "
        f"activity for {settings.case_inactive_close_days} days (outcome by the system)"
    )
    for event in result.closed:
        print(f"  {event.case_id} {event.team_id}: {event.resultaat}")
    print(
        f"retention ({settings.retention_months} months, cases closed before {cutoff:%Y-%m-%d}): "
        f"{'would delete' if dry_run else 'deleted'} "
        f"{result.cases} case(s), {result.signals} signal(s), {result.contact_attempts} contact attempt(s), "
        f"{result.households} household(s); kept as anonymous counts:"
    )
    for (gemeente, period, resultaat), (cases, signals, attempts) in result.counts.items():
        print(
            f"  {gemeente or '-'} {period:%Y-%m} {resultaat}: {cases} case(s), {signals} signal(s), {attempts} attempt(s)"
        )
    print(
        f"retention ({settings.household_forget_days} days quiet): "
        f"{'would forget' if dry_run else 'forgot'} {len(result.forgotten)} household(s)"
    )
