"""The IPv6 allocator and its lock on the sample city and on small hand-made trees."""

from __future__ import annotations

import ipaddress

import pytest

from model import load_city
from network.lock import LockError, check_foreign, dump_lock, load_lock, write_lock
from network.plan import PlanError, plan_city, plan_sites
from network.settings import PlanSettings
from tests.helpers import SAMPLE_CITY
from tests.ipv6_util import CITY, soundness_problems, tree

AGG = "2001:db8::/32"


@pytest.fixture(scope="module")
def sample():
    return load_city(SAMPLE_CITY)


@pytest.fixture(scope="module")
def sample_plan(sample):
    return plan_city(sample)


def test_sample_plan_is_sound(sample, sample_plan):
    assert soundness_problems(sample_plan) == []
    assert len(sample_plan.allocations) == len(sample.sites_by_code)
    assert {lb.device for lb in sample_plan.loopbacks} == set(sample.devices_by_hostname)
    uplinks = sum(len(d.uplinks) for d, _ in sample.devices_by_hostname.values())
    assert len(sample_plan.links) == uplinks


def test_default_lengths_follow_the_levels(sample_plan):
    lengths = {a.level: ipaddress.IPv6Network(a.prefix).prefixlen for a in sample_plan.allocations}
    assert lengths == {"city": 32, "county": 40, "township": 48, "village": 56}


def test_loopbacks_and_links_live_in_slot_zero(sample, sample_plan):
    for lb in sample_plan.loopbacks:
        _, site = sample.devices_by_hostname[lb.device]
        assert ipaddress.IPv6Network(lb.prefix).subnet_of(
            ipaddress.IPv6Network(sample_plan.infra(site.code)["loopbacks"])
        )
    for ln in sample_plan.links:
        upstream = sample.devices_by_hostname.get(
            ln.a, (None, sample.sites_by_code["369900000000"])
        )[1]
        assert ipaddress.IPv6Network(ln.prefix).subnet_of(
            ipaddress.IPv6Network(sample_plan.infra(upstream.code)["links"])
        )


def test_committed_lock_matches_the_sample_city(sample):
    path = SAMPLE_CITY.parent.parent / "network" / "ipam.lock.yaml"
    lock = load_lock(path)
    again = plan_city(sample, lock=lock)
    assert again.new == 0
    assert dump_lock(again.lock) == path.read_text(
        encoding="utf-8"
    )  # re-planning rewrites it byte for byte


def test_replan_with_lock_is_identical_and_lock_round_trips(sample, sample_plan, tmp_path):
    path = tmp_path / "lock.yaml"
    write_lock(path, sample_plan.lock)
    lock = load_lock(path)
    assert dump_lock(lock) == dump_lock(sample_plan.lock)
    again = plan_city(sample, lock=lock)
    assert again.new == 0
    assert again.to_json() == sample_plan.to_json()


def test_adding_a_village_moves_nothing_and_takes_a_fresh_slot():
    first = plan_sites(CITY, AGG, tree({1: {1: [1, 2, 3]}}))
    second = plan_sites(CITY, AGG, tree({1: {1: [1, 2, 3, 4]}}), lock=first.lock)
    old = {a.site: a.prefix for a in first.allocations}
    assert all(second.by_site[code].prefix == prefix for code, prefix in old.items())
    assert second.by_site["369901001004"].prefix == "2001:db8:101:400::/56"
    assert second.new == 3  # the block, the CPE's loopback and its link


def test_removed_site_stays_reserved_until_released():
    first = plan_sites(CITY, AGG, tree({1: {1: [1, 2, 3]}}))
    gone = first.by_site["369901001002"].prefix
    second = plan_sites(CITY, AGG, tree({1: {1: [1, 3, 4]}}), lock=first.lock)
    assert [a.prefix for a in second.reserved] == [gone]
    assert second.by_site["369901001004"].prefix != gone
    third = plan_sites(
        CITY, AGG, tree({1: {1: [1, 3, 4, 5]}}), lock=second.lock, release=["369901001002"]
    )
    assert third.reserved == []
    assert gone not in {a.prefix for a in third.allocations}, (
        "released space is not reused while fresh slots remain"
    )
    assert ("c1t1v2-cpe" not in third.lock.loopbacks) and all(
        "c1t1v2-cpe" not in k for k in third.lock.links
    )


def test_parallel_links_get_their_own_prefixes_and_old_links_never_move(tmp_path):
    single = plan_sites(CITY, AGG, tree({1: {1: [1, 2]}}))
    assert all(ln.n == 1 for ln in single.links)
    dual = plan_sites(
        CITY, AGG, tree({1: {1: [1, 2]}}, parallel={"c1-agg": 2, "c1t1-acc": 2}), lock=single.lock
    )
    assert dual.new == 2  # one /127 per added uplink, nothing else
    before = {(ln.a, ln.b, ln.n): ln.prefix for ln in single.links}
    after = {(ln.a, ln.b, ln.n): ln.prefix for ln in dual.links}
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {("core-01", "c1-agg", 2), ("c1-agg", "c1t1-acc", 2)}
    assert after["core-01", "c1-agg", 1] != after["core-01", "c1-agg", 2]
    assert ipaddress.IPv6Network(after["c1-agg", "c1t1-acc", 2]).subnet_of(
        ipaddress.IPv6Network(dual.infra("369901000000")["links"])
    )  # numbered from the upstream end's site
    assert soundness_problems(dual) == []
    assert {
        "a": "core-01",
        "b": "c1-agg",
        "n": 2,
        "prefix": after["core-01", "c1-agg", 2],
    } in dual.to_json()["links"]
    text = dump_lock(dual.lock)
    assert (
        "schema_version: 2" in text
        and f"- core-01 c1-agg {after['core-01', 'c1-agg', 2]} 2\n" in text
    )
    path = tmp_path / "lock.yaml"
    write_lock(path, dual.lock)
    assert dump_lock(load_lock(path)) == text
    back = plan_sites(
        CITY, AGG, tree({1: {1: [1, 2]}}), lock=load_lock(path)
    )  # the second links leave the model
    assert {(ln.a, ln.b, ln.n) for ln in back.links} == set(before)
    assert back.lock.links["core-01", "c1-agg", 2].removed  # still reserved
    again = plan_sites(CITY, AGG, tree({1: {1: [1, 2]}}, parallel={"c1-agg": 2}), lock=back.lock)
    assert (
        again.new == 0
        and {(ln.a, ln.b, ln.n): ln.prefix for ln in again.links}["core-01", "c1-agg", 2]
        == after["core-01", "c1-agg", 2]
    )


def test_a_lock_without_parallel_links_stays_version_1():
    text = dump_lock(plan_sites(CITY, AGG, tree({1: {1: [1]}})).lock)
    assert "schema_version: 1\n" in text and "\n- core-01 c1-agg 2001:db8:0:1::4/127\n" in text


@pytest.mark.parametrize(
    "suffix, needle",
    [
        (" 0", "link number '0'"),
        (" x", "link number 'x'"),
        (" 2 3", "expected 3 fields (+ 1 optional)"),
    ],
)
def test_bad_link_numbers_are_located_errors(tmp_path, suffix, needle):
    lines = dump_lock(plan_sites(CITY, AGG, tree({1: {1: [1]}})).lock).splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith("- core-01 c1-agg "))
    lines[idx] += suffix
    path = tmp_path / "lock.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LockError) as exc:
        load_lock(path)
    assert exc.value.errors[0].line == idx + 1 and needle in exc.value.errors[0].message


def test_released_space_is_reused_only_when_the_block_is_full():
    settings = PlanSettings(
        36, 40, 44, {"county": 0.0, "township": 0.0, "village": 0.0}
    )  # 15 villages a township
    full = tree({1: {1: list(range(1, 16))}})
    first = plan_sites(CITY, AGG, full, settings)
    gone = first.by_site["369901001007"].prefix
    fewer = [s for s in full if s.code != "369901001007"]
    released = plan_sites(CITY, AGG, fewer, lock=first.lock, release=["369901001007"])
    refill = plan_sites(
        CITY, AGG, tree({1: {1: [v for v in range(1, 17) if v != 7]}}), lock=released.lock
    )
    assert refill.by_site["369901001016"].prefix == gone
    assert soundness_problems(refill) == []


def test_full_block_names_the_township_and_the_setting():
    settings = PlanSettings(36, 40, 44, {"village": 0.25})  # 16 slots − slot 0 − 4 reserve = 11
    with pytest.raises(PlanError) as exc:
        plan_sites(CITY, AGG, tree({1: {1: list(range(1, 13))}}), settings)
    message = str(exc.value)
    assert (
        "township 369901001000" in message
        and "village_len" in message
        and "reserve.village" in message
    )
    assert "holds 11 village" in message


def test_settings_must_be_nibble_aligned_and_increasing():
    with pytest.raises(PlanError, match="nibble"):
        plan_sites(CITY, AGG, tree({1: {1: [1]}}), PlanSettings(42, 48, 56))
    with pytest.raises(PlanError, match="longer"):
        plan_sites(CITY, AGG, tree({1: {1: [1]}}), PlanSettings(48, 48, 56))


def test_defaults_adapt_to_the_aggregate():
    s = PlanSettings.for_aggregate(48)
    assert (s.county_len, s.township_len, s.village_len) == (52, 56, 60)
    plan = plan_sites(CITY, "2001:db8:1200::/48", tree({1: {1: [1, 2]}}))
    assert soundness_problems(plan) == []


def test_other_settings_than_the_locks_are_refused():
    first = plan_sites(CITY, AGG, tree({1: {1: [1]}}))
    with pytest.raises(PlanError, match="differ from the lock"):
        plan_sites(CITY, AGG, tree({1: {1: [1]}}), PlanSettings(44, 48, 56), lock=first.lock)


def test_a_site_moved_to_another_parent_is_an_error():
    first = plan_sites(CITY, AGG, tree({1: {1: [1], 2: [2]}}))
    moved = [
        s
        if s.code != "369901002002"
        else s.__class__(s.code, s.level, "369901001000", s.name, s.devices)
        for s in tree({1: {1: [1], 2: [2]}})
    ]
    with pytest.raises(PlanError, match="--release 369901002002"):
        plan_sites(CITY, AGG, moved, lock=first.lock)


def test_release_of_a_site_still_in_the_model_is_refused():
    first = plan_sites(CITY, AGG, tree({1: {1: [1]}}))
    with pytest.raises(PlanError, match="still in the model"):
        plan_sites(CITY, AGG, tree({1: {1: [1]}}), lock=first.lock, release=["369901001001"])


def test_corrupt_lock_is_a_located_error(tmp_path, sample_plan):
    path = tmp_path / "lock.yaml"
    lines = dump_lock(sample_plan.lock).splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith("- 369901001002 "))
    lines[idx] = "- 369901001002 village 369901001000 2001:db8:zz::/56"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LockError) as exc:
        load_lock(path)
    err = exc.value.errors[0]
    assert err.line == idx + 1 and err.field == "sites[4]" and "not an IPv6 prefix" in err.message


@pytest.mark.parametrize(
    "text, needle",
    [
        ("kind: something-else\n", "not a govcloud IPAM lock"),
        ("sites: [\n", "YAML syntax error"),
        (
            "schema_version: 1\nkind: govcloud/ipam-lock\ncity: '369900'\naggregate: '2001:db8::/32'\nsettings: {}\n",
            "settings",
        ),
    ],
)
def test_garbage_locks_are_errors(tmp_path, text, needle):
    path = tmp_path / "lock.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LockError) as exc:
        load_lock(path)
    assert needle in str(exc.value)


def test_foreign_lock_is_refused(sample_plan, tmp_path):
    with pytest.raises(LockError, match="belongs to city 369900, not 110100"):
        check_foreign(sample_plan.lock, tmp_path / "l.yaml", "110100", AGG)
    with pytest.raises(LockError, match="renumbering is never automatic"):
        check_foreign(sample_plan.lock, tmp_path / "l.yaml", "369900", "2001:db9::/32")


def test_lock_block_outside_its_parent_is_caught(tmp_path, sample_plan):
    text = dump_lock(sample_plan.lock).replace(
        "- 369901001001 village 369901001000 2001:db8:101:100::/56",
        "- 369901001001 village 369901001000 2001:db8:201:100::/56",
    )
    path = tmp_path / "lock.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LockError, match="outside its parent"):
        load_lock(path)
