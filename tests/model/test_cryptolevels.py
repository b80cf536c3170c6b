"""model/cryptolevels.py: the GB/T 39786-2021 table — only 应 obliges, levels follow MLPS."""

from __future__ import annotations

import pytest

from model import cryptolevels as crypto


def test_level_3_is_obliged_at_rest_and_in_transit_and_level_2_only_advised():
    for aspect in crypto.ASPECTS:
        assert crypto.requires(3, aspect) and crypto.requires(4, aspect)
        assert crypto.verb(2, aspect) == crypto.SHOULD and not crypto.requires(2, aspect)
        assert crypto.verb(1, aspect) == crypto.MAY and not crypto.requires(1, aspect)


def test_a_system_is_held_to_its_own_grade_else_its_departments():
    assert crypto.level_of(3, 2) == 3
    assert crypto.level_of(2, 3) == 2
    assert crypto.level_of(None, 3) == 3


@pytest.mark.parametrize(
    "level, aspect, want",
    [(3, "storage", "8.4 e)"), (3, "transport", "8.4 d)"), (2, "peer_auth", "7.2 a)")],
)
def test_clauses_follow_the_standards_layout(level, aspect, want):
    assert crypto.clause(level, aspect) == f"GB/T 39786-2021 {want}"


def test_every_level_names_its_source():
    assert sorted(crypto.LEVELS) == [1, 2, 3, 4]
    assert all(lv.source.startswith("GB/T 39786-2021") for lv in crypto.LEVELS.values())
