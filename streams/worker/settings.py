"""The one configuration object: environment (VROEGSIGNAAL_*), an optional TOML file, defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from schemas.contract_v1 import Source
from signals.limits import HouseholdLimits
from signals.policy import Policy
from streams.errors import StreamsError
from streams.worker.kafka_security import KafkaSecuritySettings
from streams.worker.logs import LogFormat, LogLevel

Store = Literal["memory://", "rocksdb://"]


class SettingsError(StreamsError, ValueError):
    """A setting is wrong; the message is one line naming the setting."""


class CreditorToken(BaseModel):
    """One creditor's HTTP ingest credential: the source it may deliver and its token's SHA-256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    # Stored hashed so the configuration never holds a usable token.
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are SecretStr and have no defaults."""

    model_config = SettingsConfigDict(
        env_prefix="VROEGSIGNAAL_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    broker_url: str = "kafka://127.0.0.1:9092"
    database_url: str | None = None  # default: SQLite file in data_dir
    data_dir: Path = Path("data")
    web_bind: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    app_id: str = Field(default="vroegsignaal", pattern=r"^[a-zA-Z0-9._-]{1,100}$")
    topic_prefix: str = Field(default="vs.", pattern=r"^[a-zA-Z0-9._-]{0,100}$")
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1, le=7)
    store: Store = "memory://"
    # Bearer token for the read API (GET /households/...); teams come later.
    read_token: SecretStr | None = None
    # POST /v1/ingest/{source}: creditor label -> its source and token hash.
    creditor_tokens: dict[str, CreditorToken] = {}
    routing_map: Path | None = None  # CBS PC6;Huisnummer;Buurt;Wijk;Gemeente CSV; default: sample
    teams_file: Path | None = None  # teams TOML; default: sample
    tick_interval_s: float = Field(default=5.0, gt=0, le=3600)
    max_message_bytes: int = Field(default=1_048_576, ge=1024, le=16_777_216)
    future_tolerance_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    batch_max_events: int = Field(default=2000, ge=1, le=100_000)
    batch_within_s: float = Field(default=0.05, gt=0, le=10)
    # Consumer group tuning: a join takes half the session timeout on the dev broker.
    session_timeout_s: float = Field(default=10.0, ge=1, le=300)
    heartbeat_interval_s: float = Field(default=1.0, gt=0, le=60)
    # Faust hard-codes 1500 ms, which adds a second of latency on the dev broker.
    fetch_max_wait_ms: int = Field(default=100, ge=10, le=5000)
    clock: Literal["wall", "off"] = "wall"  # off: a replay or demo brings its own ticks
    # false: the worker leaves the output topics to a `vroegsignaal sink` process of its own
    sink_in_worker: bool = True
    commit_interval_s: float = Field(default=2.8, gt=0, le=60)
    shutdown_grace_s: float = Field(default=30.0, gt=0, le=600)
    # Used when the command line gives no --loglevel; json: one JSON object per log line.
    log_level: LogLevel = "info"
    log_format: LogFormat = "text"
    rules: Policy = Field(default_factory=Policy.default)
    # Team workflow (streams/team_*.py): a case groups a household's signals of one period.
    case_period_months: Literal[1, 2, 3, 4, 6, 12] = 1
    # Personal data of cases closed longer ago is deleted by `vroegsignaal retention`.
    retention_months: int = Field(default=12, ge=6, le=120)

    # --- web security (issue 15) ---
    # demo: the public sample teams and routing, generated secrets and a loopback origin; never in production.
    demo: bool = False
    # Signs the team session cookie; required outside demo. To rotate: set the new key, move the old one to
    # session_key_previous until its sessions have expired (8 hours), then remove it.
    session_key: SecretStr | None = None
    session_key_previous: SecretStr | None = None
    # scheme://host[:port] the team pages are served under; cookie-authenticated posts must come from it.
    public_origin: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$")
    # A separate listener for /metrics and the operator's /households/{key} (None: the main one).
    ops_bind: str = "127.0.0.1"
    ops_port: int | None = Field(default=None, ge=1, le=65535)
    # Login attempts per client address and per member within the window (per worker process).
    login_max_attempts: int = Field(default=20, ge=1, le=10_000)
    login_window_s: float = Field(default=300.0, gt=0, le=86_400)

    # --- retention (issue 15) ---
    # A case with no new signal, contact attempt or status change for this many days is closed by the
    # system ("Geen reactie na eerder contact" / "Definitief geen contact kunnen krijgen").
    case_inactive_close_days: int = Field(default=90, ge=28, le=730)
    # A household with no open debt, signal or case is forgotten this many days after its last activity:
    # its state leaves the stream table (tombstone) and its rows the read model (signals/retention.py).
    household_forget_days: int = Field(default=365, ge=30, le=3650)

    # --- secure Kafka (issue 15) ---
    # TLS and SASL for every Kafka client (streams/worker/kafka_security.py), e.g.
    # VROEGSIGNAAL_KAFKA_SECURITY__TLS=true, VROEGSIGNAAL_KAFKA_SECURITY__CA_FILE=/etc/kafka/ca.pem.
    kafka_security: KafkaSecuritySettings = Field(default_factory=KafkaSecuritySettings)

    # --- readiness and timeouts (issue 16) ---
    # A request's reads (pages, API, sessions) get this long from the database, a publish (audit, case
    # event, HTTP ingest) this long from the broker; then 503 with Retry-After, never a hang.
    read_timeout_s: float = Field(default=5.0, gt=0, le=120)
    publish_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # /readyz answers from the last probe of the broker and the database, made this often.
    probe_interval_s: float = Field(default=2.0, gt=0, le=60)
    # The read model's connection pool: at most db_pool_size + db_max_overflow connections per process.
    db_pool_size: int = Field(default=4, ge=1, le=100)
    db_max_overflow: int = Field(default=4, ge=0, le=100)

    # --- malformed input and slow clients (issue 16) ---
    # Every web listener closes a connection whose request head is not complete this long after its
    # first byte; a body (form, JSON, ingest) not complete this long after its head answers 408; an
    # idle kept-alive connection is closed after web_keepalive_timeout_s.
    web_header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    web_body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    web_keepalive_timeout_s: float = Field(default=75.0, gt=0, le=3600)

    # --- bounds per household (issue 16) ---
    # signals/limits.py: a new debt beyond this many open ones is dead-lettered as household_limit
    # (households in debt assistance have about 14 creditors; NVVK, Nibud).
    max_open_debts_per_household: int = Field(default=50, ge=1, le=10_000)
    # A case (one matching period) raises at most this many signals; further news waits for the next period.
    max_signals_per_case: int = Field(default=10, ge=1, le=1000)
    # News within this many minutes (event time) of the open signal updates it instead of raising another.
    signal_coalesce_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)

    # --- municipal sign-in (issue 19) ---
    # OpenID Connect at the municipality's provider (streams/team/oidc.py); off while oidc_issuer is None.
    # The client is registered there with redirect URI <public_origin>/team/oidc/callback and
    # post-logout redirect URI <public_origin>/team/login. HTTPS issuers only, except on loopback.
    oidc_issuer: str | None = Field(default=None, pattern=r"^https?://[^?#\s]+$")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile"
    # Claim naming the member (what the audit log records), the team claim (team ids, or groups looked up
    # in oidc_groups_file: [[groups]] group/team/role) and the role claim ("coordinator" or "medewerker").
    oidc_member_claim: str = "sub"
    oidc_teams_claim: str = "groups"
    oidc_roles_claim: str = "roles"
    oidc_groups_file: Path | None = None

    # --- team pages (issue 19) ---
    # Creditors' phone numbers and web pages for payment arrangements (connectors/creditor_directory.py),
    # shown on the case page; demo: the shipped fictional sample. A theme stylesheet of NL Design System
    # tokens (`--utrecht-…`, streams/team/style.py), served after the team pages' own: the house style.
    creditors_file: Path | None = None
    team_theme_file: Path | None = None

    # --- bounds per debt (issue 16, audit) ---
    # signals/limits.py: a known debt takes at most this many events within 90 days (event time); more are
    # dead-lettered as household_limit (a real debt gets a few a month), except the closing of an open debt.
    max_events_per_debt: int = Field(default=100, ge=1, le=100_000)
    # A household takes at most this many events within the dedup horizon (each is evaluated against all its debts).
    max_events_per_household: int = Field(default=1000, ge=1, le=1_000_000)

    # --- RocksDB memory (issue 17) ---
    # Per partition of each table with store rocksdb://. Faust's defaults (3 x 64 MiB write buffers and
    # a 2 GiB block cache per partition) let a worker's memory grow with the households stored, far past
    # a pod's limit (tests/bench/memory_curve.py); the states are on disk, these bound what is cached.
    rocksdb_write_buffer_mib: int = Field(default=8, ge=1, le=1024)
    rocksdb_block_cache_mib: int = Field(default=16, ge=1, le=16_384)
    # --- malloc arenas (issue 17) ---
    # At most this many glibc malloc arenas per process (streams/worker/malloc_arenas.py); 0 leaves
    # glibc's default of eight per core, which cost a worker ~0.4 KiB more per household (README).
    malloc_arena_max: int = Field(default=1, ge=0, le=1024)

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        if not all(part.startswith("kafka://") for part in value.split(";")):
            raise ValueError("must start with kafka://, e.g. kafka://host:9092")
        return value

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> Settings:
        if self.heartbeat_interval_s * 3 > self.session_timeout_s:
            raise ValueError("heartbeat_interval_s must be at most a third of session_timeout_s")
        return self

    @model_validator(mode="after")
    def _ops_port_differs(self) -> Settings:
        if self.ops_port is not None and self.ops_port == self.web_port:
            raise ValueError("ops_port must differ from web_port (or be unset to serve both on one port)")
        return self

    @model_validator(mode="after")
    def _retention_covers_lookback(self) -> Settings:
        # The consecutive rule looks back this far; a team must still see those earlier cases.
        if self.retention_months * 31 < self.rules.consecutive_lookback_days:
            raise ValueError(
                f"retention_months must cover the {self.rules.consecutive_lookback_days}-day look-back "
                "of the consecutive rule (rules.consecutive_lookback_days)"
            )
        return self

    @model_validator(mode="after")
    def _forget_after_lookback(self) -> Settings:
        # Forgotten later than any rule looks back, so forgetting a household never changes a rule's outcome.
        rules = self.rules
        if self.household_forget_days <= max(rules.consecutive_lookback_days, rules.dedup_horizon_days):
            raise ValueError(
                "household_forget_days must exceed the consecutive rule's look-back "
                f"({rules.consecutive_lookback_days} days) and the dedup horizon ({rules.dedup_horizon_days} days)"
            )
        return self

    @property
    def sink_group(self) -> str:
        """The read-model sink's consumer group: its own, beside the app's (streams/worker/sink.py)."""
        return f"{self.app_id}-sink"

    @property
    def household_limits(self) -> HouseholdLimits:
        """The household stage's bounds (signals.limits), for the worker and the in-process replay alike."""
        return HouseholdLimits(
            max_open_debts=self.max_open_debts_per_household,
            max_signals_per_case=self.max_signals_per_case,
            coalesce_within=timedelta(minutes=self.signal_coalesce_minutes),
            case_period_months=self.case_period_months,
            max_events_per_debt=self.max_events_per_debt,
            max_events_per_household=self.max_events_per_household,
        )

    @property
    def effective_database_url(self) -> str:
        """The read model URL: configured, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'vroegsignaal.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # toml_file is only set on the subclass load_settings() makes for --config.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings (overrides > environment > TOML file > defaults) or raise SettingsError."""
    settings_cls = Settings
    if config is not None:
        if not config.is_file():
            raise SettingsError(f"config file {config} does not exist")

        class FromFile(Settings):
            model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config})

        settings_cls = FromFile
    try:
        return settings_cls(**overrides)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    got = first.get("input")
    # A table (kafka_security), a secret or a URL with a password: name the setting, never echo it.
    shown = "" if isinstance(got, dict) or _may_hold_a_secret(name) else f" (got {got!r})"
    return f"setting {name!r}: {first['msg'].removeprefix('Value error, ')}{shown}{more}"


_SECRET_WORDS = ("password", "key", "token", "secret", "database_url")


def _may_hold_a_secret(name: str) -> bool:
    """A setting whose value must not appear in an error: SecretStr fields and URLs with passwords.

    >>> _may_hold_a_secret("session_key"), _may_hold_a_secret("database_url"), _may_hold_a_secret("partitions")
    (True, True, False)
    """
    return any(word in name for word in _SECRET_WORDS)
