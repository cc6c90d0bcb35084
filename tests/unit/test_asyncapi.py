"""docs/asyncapi.yaml cannot drift: its channels are exactly the creditor topics `TopicNames` makes.

A topic added for creditors in streams/worker/topics.py without a channel here (or a channel
left behind after a topic is gone) fails; so does a payload that is not the checked-in schema
of the model the pipeline writes to that topic, or an ACL file that does not grant what the
document says. The AsyncAPI CLI itself runs in tests/integration/test_asyncapi_cli.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from schemas.cases_v1 import CreditorFeedback
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES
from schemas.deadletter_v1 import DeadLetter
from schemas.export import SCHEMA_FILES
from streams.worker.settings import Settings
from streams.worker.topics import CREDITOR_FEEDBACK, CREDITOR_OUTPUT_TOPICS, DEAD_LETTER, TopicNames

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "asyncapi.yaml"
PREFIX = Settings.model_fields["topic_prefix"].default
NAMES = TopicNames(PREFIX)
# What the pipeline writes to each kind of creditor topic, and what it reads from `inbound`.
MODEL_OF_KIND: dict[str, Any] = {
    "inbound": CREDITOR_EVENT,
    **{kind: model for model, kind in CREDITOR_OUTPUT_TOPICS.items()},
    DEAD_LETTER: DeadLetter,
    CREDITOR_FEEDBACK: CreditorFeedback,
}


@pytest.fixture(scope="module")
def yaml() -> ModuleType:
    return pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")


@pytest.fixture(scope="module")
def doc(yaml: ModuleType) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    return loaded


def _ref(doc: dict[str, Any], node: dict[str, Any]) -> Any:
    """Follow one local `$ref` (`#/a/b`), or return the node itself."""
    if "$ref" not in node:
        return node
    target: Any = doc
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def _sources(doc: dict[str, Any], channel: dict[str, Any]) -> list[str]:
    (name,) = re.findall(r"\{(\w+)\}", channel["address"])
    assert name == "source", channel["address"]
    return list(_ref(doc, channel["parameters"]["source"])["enum"])


def _addresses(doc: dict[str, Any], channel: dict[str, Any]) -> list[str]:
    return [channel["address"].replace("{source}", source) for source in _sources(doc, channel)]


def _kind(channel: dict[str, Any]) -> str:
    """`vs.costs-permitted.{source}` -> `costs-permitted`."""
    return str(channel["address"]).removeprefix(PREFIX).removesuffix(".{source}")


def _creditor_topics() -> set[str]:
    return {*NAMES.all_inbound, *(topic for source in SOURCES for topic in NAMES.of_creditor(source))}


def test_the_channels_are_exactly_the_creditor_topics_of_every_source(doc: dict[str, Any]) -> None:
    documented = [address for channel in doc["channels"].values() for address in _addresses(doc, channel)]
    assert len(documented) == len(set(documented))
    assert set(documented) == _creditor_topics()


def test_the_source_parameter_lists_every_source(doc: dict[str, Any]) -> None:
    for channel in doc["channels"].values():
        assert tuple(_sources(doc, channel)) == SOURCES
    group = doc["components"]["schemas"]["creditorGroupId"]["pattern"]
    assert f"({'|'.join(SOURCES)})" in group


def test_the_creditor_sends_to_inbound_and_receives_everything_else(doc: dict[str, Any]) -> None:
    actions: dict[str, list[str]] = {}
    for operation in doc["operations"].values():
        channel = _ref(doc, operation["channel"])
        actions.setdefault(_kind(channel), []).append(operation["action"])
        for message in operation["messages"]:
            assert _ref(doc, message) in channel["messages"].values()
    assert actions.pop("inbound") == ["send"]
    assert sorted(actions) == sorted([*CREDITOR_OUTPUT_TOPICS.values(), DEAD_LETTER, CREDITOR_FEEDBACK])
    assert all(action == ["receive"] for action in actions.values())


def test_every_payload_is_the_checked_in_schema_of_the_model_on_that_topic(doc: dict[str, Any]) -> None:
    for channel in doc["channels"].values():
        (message,) = [_ref(doc, m) for m in channel["messages"].values()]
        ref = message["payload"]["schema"]["$ref"]
        path = (DOC.parent / ref).resolve()
        assert path.is_file(), f"{ref}: no such schema file"
        assert path.parent == ROOT / "schemas" / "json"
        _title, model, _mode = SCHEMA_FILES[path.name]
        assert model is MODEL_OF_KIND[_kind(channel)], f"{channel['address']} carries {path.name}"


def test_every_message_has_a_kafka_key_and_the_documented_partitions(doc: dict[str, Any]) -> None:
    partitions = Settings.model_fields["partitions"].default
    for channel in doc["channels"].values():
        assert channel["bindings"]["kafka"]["partitions"] == partitions
        for message in channel["messages"].values():
            key = _ref(doc, _ref(doc, message)["bindings"]["kafka"]["key"])
            assert key["type"] == "string", channel["address"]
            assert key["description"], channel["address"]


def test_every_acl_named_grants_what_the_document_says(doc: dict[str, Any], yaml: ModuleType) -> None:
    for channel in doc["channels"].values():
        acl = channel["x-acl"]
        for source in _sources(doc, channel):
            path = ROOT / acl["file"].replace("{source}", source)
            user = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert user["metadata"]["name"] == acl["user"].replace("{source}", source)
            topic = channel["address"].replace("{source}", source)
            granted = [
                set(entry["operations"])
                for entry in user["spec"]["authorization"]["acls"]
                if entry["resource"] == {"type": "topic", "name": topic, "patternType": "literal"}
            ]
            assert granted == [set(acl["operations"])], f"{path.name} on {topic}"
