"""Rule configuration as a municipality writes it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from signals.policy import Policy


def test_overriding_one_number_of_a_source_keeps_the_rest_of_its_rule() -> None:
    policy = Policy.model_validate({"health": {"min_days_overdue": 75}})
    assert policy.health.min_days_overdue == 75
    assert policy.health.min_months_arrears == Policy.default().health.min_months_arrears


def test_a_value_out_of_range_names_the_setting() -> None:
    with pytest.raises(ValidationError, match=r"health\.min_days_overdue"):
        Policy.model_validate({"health": {"min_days_overdue": -1}})
