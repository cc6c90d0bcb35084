"""infra/kubernetes/acl/: the Strimzi KafkaUsers give each creditor its own topics and nothing of another's.

The ACLs are evaluated as Kafka's simple authorizer does (a literal name matches itself or `*`,
a prefix matches every name starting with it) against every topic of a deployment, so a
topic or ACL added later cannot silently open one creditor's data to another.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from schemas.contract_v1 import SOURCES
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

ACL_DIR = Path(__file__).resolve().parents[2] / "infra" / "kubernetes" / "acl"
PREFIX = Settings.model_fields["topic_prefix"].default
NAMES = TopicNames(PREFIX)
APP_ID = Settings.model_fields["app_id"].default
OPERATIONS = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "All", "IdempotentWrite"}
OPERATIONS |= {"ClusterAction", "AlterConfigs", "DescribeConfigs"}


@pytest.fixture(scope="module")
def users() -> dict[str, dict[str, Any]]:
    yaml: ModuleType = pytest.importorskip(
        "yaml", reason="PyYAML is not installed: it belongs in the test extra"
    )
    found = {}
    for path in sorted(ACL_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == doc["metadata"]["name"], path.name
        found[path.stem] = doc
    return found


def _allows(user: dict[str, Any], kind: str, name: str, operation: str) -> bool:
    """Whether the user's ACLs allow `operation` on the resource, as Kafka's simple authorizer decides."""
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != kind or acl.get("type", "allow") != "allow":
            continue
        if resource["patternType"] == "prefix":
            matches = name.startswith(resource["name"])
        else:
            matches = resource["name"] in (name, "*")
        # Kafka: Read, Write, Delete and Alter imply Describe; All implies everything.
        ops = set(acl["operations"])
        implied = ops | ({"Describe"} if ops & {"Read", "Write", "Delete", "Alter"} else set())
        if matches and (operation in implied or "All" in ops):
            return True
    return False


def _creditor(users: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    return users[f"creditor-{source}"]


def test_every_file_is_a_strimzi_kafka_user_with_simple_authorization(
    users: dict[str, dict[str, Any]],
) -> None:
    assert set(users) == {f"creditor-{s}" for s in SOURCES} | {
        "vroegsignaal-worker",
        "vroegsignaal-sink",
        "vroegsignaal-operator",
    }
    for name, user in users.items():
        assert (user["apiVersion"], user["kind"]) == ("kafka.strimzi.io/v1beta2", "KafkaUser"), name
        assert "namespace" not in user["metadata"], name
        assert user["metadata"]["labels"]["strimzi.io/cluster"], name
        assert user["spec"]["authentication"]["type"] in {"tls", "scram-sha-512"}, name
        assert user["spec"]["authorization"]["type"] == "simple", name
        for acl in user["spec"]["authorization"]["acls"]:
            assert acl["resource"]["type"] in {"topic", "group", "cluster", "transactionalId"}, name
            assert acl["resource"]["patternType"] in {"literal", "prefix"}, name
            assert set(acl["operations"]) <= OPERATIONS, name


def test_a_creditor_writes_its_inbound_topic_and_reads_its_own_topics_only(
    users: dict[str, dict[str, Any]],
) -> None:
    for source in SOURCES:
        user = _creditor(users, source)
        readable = {t for t in NAMES.everything if _allows(user, "topic", t, "Read")}
        writable = {t for t in NAMES.everything if _allows(user, "topic", t, "Write")}
        assert readable == set(NAMES.of_creditor(source)), source
        assert writable == {NAMES.inbound(source)}, source
        assert not any(_allows(user, "topic", t, "Create") for t in NAMES.everything), source


def test_no_creditor_acl_names_a_topic_or_group_of_another_source(users: dict[str, dict[str, Any]]) -> None:
    for source in SOURCES:
        acls = _creditor(users, source)["spec"]["authorization"]["acls"]
        topics = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic"}
        assert topics == {NAMES.inbound(source), *NAMES.of_creditor(source)}
        assert all(
            a["resource"]["patternType"] == "literal" for a in acls if a["resource"]["type"] == "topic"
        )
        groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
        assert groups == [{"type": "group", "name": f"{PREFIX}creditor.{source}.", "patternType": "prefix"}]
        for other in SOURCES:
            if other != source:
                group = f"{PREFIX}creditor.{other}.reminders"
                assert not _allows(_creditor(users, source), "group", group, "Read"), (source, other)


def test_a_later_source_whose_name_starts_with_an_existing_one_stays_closed(
    users: dict[str, dict[str, Any]],
) -> None:
    """Why the topic ACLs are literal: a prefix `vs.reminders.health` would also grant `healthcare`'s."""
    for source in SOURCES:
        user = _creditor(users, source)
        for topic in (f"{PREFIX}reminders.{source}care", f"{PREFIX}dead-letter.{source}-b"):
            assert not _allows(user, "topic", topic, "Read"), topic
        assert not _allows(user, "group", f"{PREFIX}creditor.{source}care.x", "Read")


def test_the_sink_reads_every_output_and_nothing_a_creditor_sends(users: dict[str, dict[str, Any]]) -> None:
    sink = users["vroegsignaal-sink"]
    readable = {t for t in NAMES.everything if _allows(sink, "topic", t, "Read")}
    assert readable == set(NAMES.all_outputs)
    assert not any(_allows(sink, "topic", t, "Write") for t in NAMES.everything)
    assert _allows(sink, "group", f"{APP_ID}-sink", "Read")


def test_the_worker_reads_and_writes_every_topic_and_its_changelogs(users: dict[str, dict[str, Any]]) -> None:
    worker = users["vroegsignaal-worker"]
    for topic in (*NAMES.everything, f"{APP_ID}-households-changelog"):
        for operation in ("Read", "Write", "Describe", "Create"):
            assert _allows(worker, "topic", topic, operation), (topic, operation)
    assert _allows(worker, "group", APP_ID, "Read")
    assert _allows(worker, "group", f"{APP_ID}-sink", "Read")


def test_only_the_operator_and_the_worker_read_the_unrouted_dead_letters(
    users: dict[str, dict[str, Any]],
) -> None:
    readers = {
        name for name, user in users.items() if _allows(user, "topic", NAMES.dead_letter_unrouted, "Read")
    }
    assert readers == {"vroegsignaal-operator", "vroegsignaal-worker"}
    operator = users["vroegsignaal-operator"]
    assert {t for t in NAMES.everything if _allows(operator, "topic", t, "Read")} == {
        NAMES.dead_letter_unrouted
    }
