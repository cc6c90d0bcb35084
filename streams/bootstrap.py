"""The composition root: builds the Faust app, its pipeline, agents, sink and views from the settings.

Nothing connects at import; `create_app(settings)` is the one place where the pieces are
put together, so tests build isolated apps with their own ids. It sits above every room
(worker, team) and nothing imports it but the command line.
"""

from __future__ import annotations

import threading
from typing import Any

import faust
from faust.types.auth import CredentialsT

from connectors.kafka.admin import bootstrap_of, ensure_topics
from connectors.kafka.security import KafkaSecurity
from connectors.routing_files import default_routing, load_routing
from signals.routing import RoutingTable
from streams import team
from streams.faust_fixes import apply_fixes
from streams.faust_fixes.producer import raise_buffer_bound
from streams.worker import agents, file_rejections, web, web_security
from streams.worker.fold_thread import FoldThread
from streams.worker.logs import logging_config
from streams.worker.metrics import Metrics
from streams.worker.pipeline import Pipeline
from streams.worker.settings import Settings, SettingsError
from streams.worker.shutdown import arm_watchdog
from streams.worker.topics import TopicNames


class VroegsignaalApp(faust.App):
    """faust.App that creates every topic of the deployment before it subscribes."""

    pipeline: Pipeline
    ops_listener: web_security.OpsListener | None = None
    fold_thread: FoldThread | None = None
    _watchdog: threading.Timer | None = None

    async def on_first_start(self) -> None:
        await super().on_first_start()
        p = self.pipeline
        await ensure_topics(
            bootstrap_of(p.settings.broker_url),
            p.names.everything,
            partitions=p.settings.partitions,
            replication_factor=p.settings.replication_factor,
            security=p.settings.kafka_security.client,
        )
        # Table writes queue in Faust's producer buffer, which stalls the stream
        # every 100 records (BROKER-NOTES); a batch writes up to one per household.
        raise_buffer_bound(self, max(10_000, p.settings.batch_max_events * 2))

    async def on_start(self) -> None:
        await super().on_start()
        if self.ops_listener is not None:  # metrics answer during table recovery too
            await self.ops_listener.start()

    async def on_stop(self) -> None:
        # Faust's own stop waits without a bound for in-flight messages (streams/worker/shutdown.py).
        self._watchdog = arm_watchdog(self.pipeline.settings.shutdown_grace_s)
        if self.ops_listener is not None:
            await self.ops_listener.stop()
        await super().on_stop()

    async def on_shutdown(self) -> None:
        await super().on_shutdown()
        if self.fold_thread is not None:  # after the agents stopped: no fold is running or to come
            self.fold_thread.close()
        # Stopped in time: a process that lives on (tests, embedding) must not be ended later.
        if self._watchdog is not None:
            self._watchdog.cancel()


SAMPLE_REFUSED = (
    "no teams and routing configured: set 'routing_map' and 'teams_file' (VROEGSIGNAAL_ROUTING_MAP, "
    "VROEGSIGNAAL_TEAMS_FILE), or 'demo' (VROEGSIGNAAL_DEMO=true) to run with the public sample teams"
)


def load_routing_table(settings: Settings) -> RoutingTable:
    """The configured CBS map and teams; the shipped sample in demo mode only (its tokens are public)."""
    if settings.routing_map is None and settings.teams_file is None:
        if not settings.demo:
            raise SettingsError(SAMPLE_REFUSED)
        return default_routing()
    if settings.routing_map is None or settings.teams_file is None:
        raise SettingsError("settings 'routing_map' and 'teams_file' must be given together")
    return load_routing(settings.routing_map, settings.teams_file)


def create_app(settings: Settings, *, metrics: Metrics | None = None) -> VroegsignaalApp:
    """Build the worker app; fails with SettingsError when a required setting is missing."""
    routing = load_routing_table(settings)
    for name in ("session_key", "public_origin"):
        if getattr(settings, name) is None and not settings.demo:
            raise SettingsError(
                f"setting {name!r} is required outside demo mode (VROEGSIGNAAL_{name.upper()})"
            )
    app = VroegsignaalApp(settings.app_id, **_faust_options(settings))
    apply_fixes(
        app,
        bootstrap=bootstrap_of(settings.broker_url),
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        security=settings.kafka_security.client,
    )
    metrics = metrics or Metrics()
    metrics.know_teams(routing.teams)  # per-team counters at 0 from the start (issue 18)
    app.pipeline = Pipeline(
        settings=settings,
        names=TopicNames(settings.topic_prefix),
        routing=routing,
        metrics=metrics,
        app=app,
    )
    app.fold_thread = FoldThread()
    agents.register(app, app.pipeline, fold=app.fold_thread)
    file_rejections.register(app, app.pipeline)
    web.register(app, app.pipeline)
    team.register(app, app.pipeline)
    app.ops_listener = web_security.install(app, ops_bind=settings.ops_bind, ops_port=settings.ops_port)
    return app


def _faust_options(settings: Settings) -> dict[str, Any]:
    return {
        "broker": settings.broker_url,
        # Faust hands these to its producer (which also creates topics), consumers and client.
        "broker_credentials": faust_credentials(settings.kafka_security.client),
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
        "logging_config": logging_config(settings.log_format),
    }


def faust_credentials(security: KafkaSecurity) -> CredentialsT | None:
    """The same TLS context and SASL credentials as every other client, the way Faust takes them."""
    if security.sasl_mechanism is not None:
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password,
            ssl_context=security.ssl_context,
            mechanism=security.sasl_mechanism,
        )
    if security.ssl_context is not None:
        return faust.SSLCredentials(security.ssl_context)
    return None
