"""The bootstrap: builds the Faust app, its topics, tables, agents and views from the settings.

Nothing connects at import; `create_app(settings)` is the one place where the
pieces are put together, so tests build isolated apps with their own ids.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import faust

from connectors.kafka_admin import bootstrap_of, ensure_topics
from connectors.routing_files import default_routing, load_routing
from signals.routing import RoutingTable
from streams.flow import clear_only_on_real_resume
from streams.metrics import Metrics
from streams.settings import Settings, SettingsError
from streams.shutdown import arm_watchdog
from streams.topics import TopicNames, partition_of_key
from streams.transport import lower_fetch_wait
from streams.true_ends import read_changelogs_to_their_true_end

log = logging.getLogger(__name__)


class VroegsignaalApp(faust.App):
    """faust.App that creates every topic of the deployment before it subscribes."""

    pipeline: Pipeline
    _watchdog: threading.Timer | None = None

    async def on_first_start(self) -> None:
        await super().on_first_start()
        p = self.pipeline
        await ensure_topics(
            bootstrap_of(p.settings.broker_url),
            p.names.everything,
            partitions=p.settings.partitions,
            replication_factor=p.settings.replication_factor,
        )
        # Table writes queue in Faust's producer buffer, which stalls the stream
        # every 100 records (BROKER-NOTES); a batch writes up to one per household.
        self.producer.buffer.max_messages = max(10_000, p.settings.batch_max_events * 2)

    async def on_stop(self) -> None:
        # Faust's own stop waits without a bound for in-flight messages (streams/shutdown.py).
        self._watchdog = arm_watchdog(self.pipeline.settings.shutdown_grace_s)
        await super().on_stop()

    async def on_shutdown(self) -> None:
        await super().on_shutdown()
        # Stopped in time: a process that lives on (tests, embedding) must not be ended later.
        if self._watchdog is not None:
            self._watchdog.cancel()


@dataclass
class Pipeline:
    """Everything the agents and views share, built once per process."""

    settings: Settings
    names: TopicNames
    routing: RoutingTable
    metrics: Metrics
    pseudonym_key: bytes
    app: faust.App
    topics: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def topic(self, name: str) -> Any:
        """The raw-bytes topic object for a name, made once."""
        if name not in self.topics:
            self.topics[name] = self.app.topic(
                name, partitions=self.settings.partitions, key_serializer="raw", value_serializer="raw"
            )
        return self.topics[name]

    def partition_of(self, household_key: str) -> int:
        """Partition of a household on the internal topic (Kafka's default murmur2 partitioner)."""
        return partition_of_key(household_key.encode(), self.settings.partitions)


def load_routing_table(settings: Settings) -> RoutingTable:
    """The configured CBS map and teams, or the shipped sample."""
    if settings.routing_map is None and settings.teams_file is None:
        return default_routing()
    if settings.routing_map is None or settings.teams_file is None:
        raise SettingsError("settings 'routing_map' and 'teams_file' must be given together")
    return load_routing(settings.routing_map, settings.teams_file)


def create_app(settings: Settings, *, metrics: Metrics | None = None) -> VroegsignaalApp:
    """Build the worker app; fails with SettingsError when a required setting is missing."""
    if settings.pseudonym_key is None:
        raise SettingsError("setting 'pseudonym_key' is required (VROEGSIGNAAL_PSEUDONYM_KEY)")
    lower_fetch_wait(settings.fetch_max_wait_ms)
    app = VroegsignaalApp(settings.app_id, **_faust_options(settings))
    clear_only_on_real_resume(app.flow_control)  # else a restart can drop events (streams/flow.py)
    # Else recovery can stop short of a changelog's last states (streams/true_ends.py).
    read_changelogs_to_their_true_end(app.consumer, bootstrap_of(settings.broker_url))
    app.pipeline = Pipeline(
        settings=settings,
        names=TopicNames(settings.topic_prefix),
        routing=load_routing_table(settings),
        metrics=metrics or Metrics(),
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
        app=app,
    )
    from streams import agents, team, web  # registration needs the app; imported late on purpose

    agents.register(app, app.pipeline)
    web.register(app, app.pipeline)
    team.register(app, app.pipeline)
    return app


def _faust_options(settings: Settings) -> dict[str, Any]:
    return {
        "broker": settings.broker_url,
        "store": settings.store,
        "autodiscover": False,
        "datadir": str(settings.data_dir / "faust"),
        "web_enabled": True,
        "web_bind": settings.web_bind,
        "web_host": settings.web_bind,
        "web_port": settings.web_port,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": settings.heartbeat_interval_s,
        "broker_commit_interval": settings.commit_interval_s,
        "consumer_auto_offset_reset": "earliest",
        # A standby replays the other worker's changelog and costs a core on a
        # 2-core machine; recovery from the changelog is what we rely on.
        "table_standby_replicas": 0,
        "producer_linger": 0.005,
        "stream_buffer_maxsize": 32768,
        "broker_max_poll_records": 5000,
        "worker_redirect_stdouts": False,
        "logging_config": None,
    }
