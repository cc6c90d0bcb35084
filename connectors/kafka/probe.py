"""Is the broker reachable? A metadata request on a client of its own, for readiness; publishes in time.

The worker's Faust clients retry for minutes without telling anyone; this client asks the
cluster for its metadata with a short timeout, so `/readyz` can say "broker unreachable".
`broker_within` bounds a publish a request waits for, so the request answers 503, never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from connectors.errors import Unavailable
from connectors.kafka.security import PLAINTEXT, KafkaSecurity

__all__ = ["BrokerProbe", "broker_within"]


@contextlib.asynccontextmanager
async def broker_within(timeout_s: float) -> AsyncIterator[None]:
    """Run the body (sends and their acknowledgements) within `timeout_s`, else raise Unavailable.

    A message the body had already handed to the producer may still arrive later; every
    message has a deterministic id, so the client's retry after the 503 is idempotent.
    """
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError:
        raise Unavailable("broker", f"no acknowledgement within {timeout_s:g} s") from None
    except KafkaError as exc:
        raise Unavailable("broker", type(exc).__name__) from exc


class BrokerProbe:
    """One long-lived Kafka client; `reachable()` answers within the timeout, never raises."""

    def __init__(self, bootstrap: str, *, security: KafkaSecurity = PLAINTEXT) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._client: AIOKafkaClient | None = None
        self.last_error = ""

    async def reachable(self, *, timeout_s: float = 2.0) -> bool:
        """Whether a broker answered a metadata request within `timeout_s` (the reason in `last_error`)."""
        try:
            async with asyncio.timeout(timeout_s):
                if self._client is None:
                    self._client = await self._connect()
                else:
                    await self._client.fetch_all_metadata()
        except TimeoutError:
            self.last_error = f"no metadata within {timeout_s:g} s from {self._bootstrap}"
            return False
        except (KafkaError, OSError) as exc:
            self.last_error = f"{type(exc).__name__} from {self._bootstrap}"
            return False
        self.last_error = ""
        return True

    async def _connect(self) -> AIOKafkaClient:
        client = AIOKafkaClient(
            bootstrap_servers=self._bootstrap,
            client_id="vroegsignaal-readiness",
            request_timeout_ms=5000,
            **self._security.client_kwargs(),
        )
        try:
            await client.bootstrap()  # fetches the metadata once: the first probe
        except BaseException:
            with contextlib.suppress(Exception):
                await client.close()
            raise
        return client

    async def close(self) -> None:
        """Close the client's connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
