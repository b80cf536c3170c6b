"""infra/modelcache.py: the orchestrator's loaded model is used only for the very same files."""

from __future__ import annotations

from infra import modelcache
from model import load_city
from tests.helpers import edit_yaml


def test_the_cached_model_is_used_only_while_the_files_are_the_same(small_city, tmp_path):
    m = load_city(small_city)
    cache = modelcache.store(m, tmp_path / "cache")
    hit = modelcache.load(small_city, str(cache))
    assert hit.departments == m.departments and hit.systems == m.systems
    assert modelcache.load(small_city, None).departments == m.departments

    def rename(data):
        data["departments"][0]["name"] = "市改名局"

    edit_yaml(small_city, "departments.yaml", rename)
    fresh = modelcache.load(small_city, str(cache))  # a digest the cache does not hold
    assert fresh.departments[0].name == "市改名局"
