"""Validation mode: the capacity engine as M/M/c/c and M/M/c against Erlang B and C."""

from __future__ import annotations

import pytest

from simulate import validate

C, A = 10, 8.0


def test_closed_forms_match_the_published_values():
    assert validate.erlang_b(C, A) == pytest.approx(0.121661, abs=1e-6)
    assert validate.erlang_c(C, A) == pytest.approx(0.409180, abs=1e-6)
    assert validate.erlang_c_wait(C, A) == pytest.approx(0.204590, abs=1e-6)
    assert validate.erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_b_within_two_percent():
    r = validate.run("erlang-b", C, A, seed=11, replications=10, customers=60_000, jobs=2)
    lo, hi = r["p_block_ci95"]
    assert r["p_block_rel_error"] <= 0.02
    assert (hi - lo) / 2 <= 0.02 * r["p_block_exact"], "the run is long enough to resolve 2%"
    assert lo <= r["p_block_exact"] <= hi


def test_erlang_c_wait_probability_within_two_percent_and_mean_wait_consistent():
    r = validate.run("erlang-c", C, A, seed=12, replications=12, customers=90_000, jobs=2)
    lo, hi = r["p_wait_ci95"]
    assert r["p_wait_rel_error"] <= 0.02 and (hi - lo) / 2 <= 0.02 * r["p_wait_exact"]
    wlo, whi = r["mean_wait_ci95"]
    assert wlo <= r["mean_wait_exact"] <= whi, "the mean wait's interval covers Wq"


@pytest.mark.slow
def test_erlang_c_mean_wait_within_two_percent_at_the_default_run_length():
    r = validate.run("erlang-c", C, A, seed=1, jobs=None)
    for key in ("p_wait", "mean_wait"):
        lo, hi = r[f"{key}_ci95"]
        assert r[f"{key}_rel_error"] <= 0.02, key
        assert (hi - lo) / 2 <= 0.02 * r[f"{key}_exact"], key


def test_same_seed_same_estimates_inline_or_in_processes():
    inline = validate.run("erlang-b", 4, 3.0, seed=5, replications=4, customers=2_000, jobs=1)
    pooled = validate.run("erlang-b", 4, 3.0, seed=5, replications=4, customers=2_000, jobs=2)
    assert inline == pooled


def test_same_seed_same_estimates_on_dask():
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install 'govcloud[dask]')"
    )
    inline = validate.run("erlang-c", 4, 3.0, seed=6, replications=4, customers=2_000, jobs=1)
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        on_dask = validate.run(
            "erlang-c",
            4,
            3.0,
            seed=6,
            replications=4,
            customers=2_000,
            scheduler=cluster.scheduler_address,
        )
    assert on_dask == inline


@pytest.mark.parametrize(
    "args, message",
    [
        (("erlang-x", 2, 1.0), "model must be"),
        (("erlang-c", 2, 3.0), "load < servers"),
        (("erlang-b", 0, 1.0), "servers must be"),
    ],
)
def test_bad_arguments_are_clear_errors(args, message):
    with pytest.raises(ValueError, match=message):
        validate.run(*args, seed=1, replications=2, customers=100)


def test_precision_adds_replications_until_the_half_width_is_within_it():
    # short replications of 20,000 customers: 4 of them are far from 2%; the run extends
    # itself, and its first replications are the ones a fixed run of 4 would make
    short = validate.run("erlang-b", C, A, seed=8, replications=4, customers=20_000, jobs=2)
    assert short["relative_half_width"]["p_block"] > 0.02 and short["precision_met"] is None
    r = validate.run(
        "erlang-b", C, A, seed=8, replications=4, customers=20_000, jobs=2, precision=0.02
    )
    lo, hi = r["p_block_ci95"]
    assert r["precision_met"] and r["replications"] > 4
    assert (hi - lo) / 2 <= 0.02 * r["p_block"] + 1e-12
    assert r["relative_half_width"]["p_block"] <= 0.02
    extended = validate.run(
        "erlang-b", C, A, seed=8, replications=r["replications"], customers=20_000, jobs=2
    )
    assert extended["p_block"] == pytest.approx(r["p_block"], rel=1e-12)
