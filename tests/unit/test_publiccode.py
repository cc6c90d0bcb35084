"""publiccode.yml follows the publiccode.yml standard, version 0.4, and agrees with pyproject and LICENSE.

No registry we can install from (PyPI, npm) ships the standard's JSON Schema or a validator: the reference
validator is the Go module publiccode-parser-go, and the JSON Schemas in the standard's repositories are not
published as packages. So the schema below is written from the standard's own text, "The Standard (core)"
(docs/standard/schema.core.rst of the publiccode.yml repository; https://yml.publiccode.tools/schema.core.html),
with its controlled vocabularies (categories-list.rst, scope-list.rst). It encodes every mandatory key, the
enumerations (developmentStatus, softwareType, maintenance/type), the lengths (shortDescription at most 150
characters, longDescription 150 to 10000), dates as YYYY-MM-DD, lowercase ISO 3166-1 alpha-2 countries, BCP 47
language tags, the Dependency and Contact objects, and the rule that maintenance of type internal or community
names contacts and of type contract names contractors. It does not resolve URLs or check SPDX expressions
beyond the licence we declare.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# categories-list.rst of the standard (controlled vocabulary for `categories`)
CATEGORIES = [
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "website-builder",
    "whistleblowing",
    "workflow-management",
]

# scope-list.rst of the standard (controlled vocabulary for `intendedAudience/scope`)
SCOPES = [
    "agriculture",
    "culture",
    "defence",
    "education",
    "emergency-services",
    "employment",
    "energy",
    "environment",
    "finance-and-economic-development",
    "foreign-affairs",
    "healthcare",
    "infrastructures",
    "justice",
    "local-authorities",
    "manufacturing",
    "research",
    "science-and-technology",
    "security",
    "society",
    "sport",
    "tourism",
    "transportation",
    "welfare",
]

DATE = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
URL = r"^https?://[^\s/$.?#][^\s]*$"
BCP47 = r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
COUNTRY = r"^[a-z]{2}$"

_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_DEPENDENCY = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "versionMin": {"type": "string"},
        "versionMax": {"type": "string"},
        "version": {"type": "string"},
        "optional": {"type": "boolean"},
    },
    "additionalProperties": False,
}
_CONTACT = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$"},
        "phone": {"type": "string"},
        "affiliation": {"type": "string"},
    },
    "additionalProperties": False,
}
_CONTRACTOR = {
    "type": "object",
    "required": ["name", "until"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "until": {"type": "string", "pattern": DATE},
        "email": {"type": "string"},
        "website": {"type": "string", "pattern": URL},
    },
    "additionalProperties": False,
}
_DESCRIPTION = {
    "type": "object",
    "required": ["shortDescription", "longDescription", "features"],
    "properties": {
        "localisedName": {"type": "string"},
        "genericName": {"type": "string", "maxLength": 35},
        "shortDescription": {"type": "string", "minLength": 1, "maxLength": 150},
        "longDescription": {"type": "string", "minLength": 150, "maxLength": 10000},
        "documentation": {"type": "string", "pattern": URL},
        "apiDocumentation": {"type": "string", "pattern": URL},
        "features": {**_STRINGS, "minItems": 1},
        "screenshots": _STRINGS,
        "videos": {"type": "array", "items": {"type": "string", "pattern": URL}},
        "awards": _STRINGS,
    },
    "additionalProperties": False,
}

SCHEMA_V04: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "publiccodeYmlVersion",
        "name",
        "url",
        "platforms",
        "categories",
        "developmentStatus",
        "softwareType",
        "description",
        "legal",
        "maintenance",
        "localisation",
    ],
    "properties": {
        "publiccodeYmlVersion": {"const": "0.4"},
        "name": {"type": "string", "minLength": 1},
        "applicationSuite": {"type": "string"},
        "url": {"type": "string", "pattern": URL},
        "landingURL": {"type": "string", "pattern": URL},
        "isBasedOn": {"anyOf": [{"type": "string"}, _STRINGS]},
        "softwareVersion": {"type": "string"},
        "releaseDate": {"type": "string", "pattern": DATE},
        "logo": {"type": "string"},
        "platforms": {"anyOf": [{"type": "string", "minLength": 1}, {**_STRINGS, "minItems": 1}]},
        "categories": {"type": "array", "minItems": 1, "items": {"enum": CATEGORIES}},
        "usedBy": _STRINGS,
        "roadmap": {"type": "string"},
        "developmentStatus": {"enum": ["concept", "development", "beta", "stable", "obsolete"]},
        "softwareType": {
            "enum": [
                "standalone/mobile",
                "standalone/iot",
                "standalone/desktop",
                "standalone/web",
                "standalone/backend",
                "standalone/other",
                "addon",
                "library",
                "configurationFiles",
            ]
        },
        "intendedAudience": {
            "type": "object",
            "properties": {
                "countries": {"type": "array", "items": {"type": "string", "pattern": COUNTRY}},
                "unsupportedCountries": {"type": "array", "items": {"type": "string", "pattern": COUNTRY}},
                "scope": {"type": "array", "items": {"enum": SCOPES}},
            },
            "additionalProperties": False,
        },
        "description": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": BCP47},
            "additionalProperties": _DESCRIPTION,
        },
        "legal": {
            "type": "object",
            "required": ["license"],
            "properties": {
                "license": {"type": "string", "minLength": 1},
                "mainCopyrightOwner": {"type": "string"},
                "repoOwner": {"type": "string"},
                "authorsFile": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "maintenance": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["internal", "contract", "community", "none"]},
                "contractors": {"type": "array", "items": _CONTRACTOR},
                "contacts": {"type": "array", "items": _CONTACT},
            },
            "additionalProperties": False,
            "allOf": [
                {
                    "if": {"properties": {"type": {"enum": ["internal", "community"]}}},
                    "then": {"required": ["contacts"], "properties": {"contacts": {"minItems": 1}}},
                },
                {
                    "if": {"properties": {"type": {"const": "contract"}}},
                    "then": {"required": ["contractors"], "properties": {"contractors": {"minItems": 1}}},
                },
            ],
        },
        "localisation": {
            "type": "object",
            "required": ["localisationReady", "availableLanguages"],
            "properties": {
                "localisationReady": {"type": "boolean"},
                "availableLanguages": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": BCP47},
                },
            },
            "additionalProperties": False,
        },
        "dependsOn": {
            "type": "object",
            "properties": {
                "open": {"type": "array", "items": _DEPENDENCY},
                "proprietary": {"type": "array", "items": _DEPENDENCY},
                "hardware": {"type": "array", "items": _DEPENDENCY},
            },
            "additionalProperties": False,
        },
    },
    # Country extensions (it:, ...) are sections named by a two-letter code; nothing else is allowed.
    "patternProperties": {"^[a-z]{2}$": {"type": "object"}},
    "additionalProperties": False,
}

# sha256 of the EUPL-1.2 text as the SPDX licence list has it (npm spdx-license-list 6.12.0, EUPL-1.2.json).
EUPL_12_SHA256 = "57fb42fbcd0b037ce528ed8f72f1ec095d67bc6825ecf1448ff39be1fe68a4b4"


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA_V04)
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)
    )


@pytest.fixture(scope="module")
def publiccode() -> dict[str, Any]:
    # YAML 1.1 would read an unquoted 2026-11-27 as a date: the file quotes its dates, and the schema wants strings
    document: dict[str, Any] = yaml.safe_load((ROOT / "publiccode.yml").read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_schema_itself_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA_V04)


def test_publiccode_yml_follows_the_standard(publiccode: dict[str, Any]) -> None:
    assert _errors(publiccode) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda d: d.pop("legal"), "'legal' is a required property"),
        (lambda d: d["description"]["nl"].update(longDescription="Te kort."), "is too short"),
        (lambda d: d["description"]["en"].update(shortDescription="x" * 151), "is too long"),
        (lambda d: d.update(developmentStatus="alpha"), "is not one of"),
        (lambda d: d.update(categories=["debt-collection"]), "is not one of"),
        (lambda d: d.update(releaseDate="27-11-2026"), "does not match"),
        (lambda d: d["maintenance"].pop("contacts"), "'contacts' is a required property"),
        (lambda d: d["localisation"].update(availableLanguages=["Nederlands"]), "does not match"),
        (lambda d: d["dependsOn"]["open"].append({"versionMin": "1"}), "'name' is a required property"),
        (lambda d: d.update(licence="EUPL-1.2"), "'licence' does not match any of the regexes"),
    ],
)
def test_the_schema_refuses_what_the_standard_refuses(
    publiccode: dict[str, Any], break_it: Any, expected: str
) -> None:
    """The schema is not vacuous: each rule it encodes rejects a document that breaks it."""
    document = copy.deepcopy(publiccode)
    break_it(document)
    assert any(expected in error for error in _errors(document)), _errors(document)


def test_version_and_licence_agree_with_pyproject(
    publiccode: dict[str, Any], project: dict[str, Any]
) -> None:
    assert publiccode["softwareVersion"] == project["version"]
    assert publiccode["legal"]["license"] == project["license"]["text"] == "EUPL-1.2"


def test_both_languages_of_the_users_are_described(publiccode: dict[str, Any]) -> None:
    assert set(publiccode["description"]) == {"nl", "en"}
    assert set(publiccode["localisation"]["availableLanguages"]) == {"nl", "en"}


def test_the_services_it_needs_are_declared(publiccode: dict[str, Any]) -> None:
    names = {dependency["name"] for dependency in publiccode["dependsOn"]["open"]}
    assert {"Apache Kafka", "PostgreSQL"} <= names


def test_license_file_is_the_eupl_1_2_text() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\n")
    assert "‘Compatible Licences’ according to Article 5 EUPL are:" in text
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == EUPL_12_SHA256
