"""COCO/BBOB benchmark: scoring on synthetic traces, and a smoke run (2 functions, d=2, small budget)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from zoo.population import bbob


def test_targets_are_51_log_uniform_from_1e2_to_1e_8():
    t = bbob.targets()
    assert len(t) == 51 and t[0] == pytest.approx(1e2) and t[-1] == pytest.approx(1e-8)
    assert np.allclose(np.diff(np.log10(t)), -0.2)


def test_hitting_evals_on_a_synthetic_trace():
    # best-so-far f - f_opt: 50 at eval 1, 0.5 at eval 10, 1e-9 at eval 300
    hits = bbob.hitting_evals([1, 10, 300], [50.0, 0.5, 1e-9], bbob.targets())
    t = bbob.targets()
    assert np.all(hits[t >= 50] == 1)
    assert np.all(hits[(t < 50) & (t >= 0.5)] == 10)
    assert np.all(hits[t < 0.5] == 300)
    assert bbob.fraction_solved(hits[None, :], 5) == pytest.approx(np.mean(t >= 50))
    assert bbob.fraction_solved(hits[None, :], 300) == 1.0
    never = bbob.hitting_evals([], [], t)
    assert np.all(np.isinf(never))
    both = np.array([hits, never])
    assert bbob.fraction_solved(both, 1000) == 0.5
    curve = bbob.ecdf(both, np.array([1, 10, 100, 300, 1e6]))
    assert np.all(np.diff(curve) >= 0) and curve[-1] == 0.5


def test_hitting_evals_uses_the_best_so_far():
    # a non-monotone trace (raw values) must be read as its running minimum
    hits = bbob.hitting_evals([1, 2, 3], [1.0, 5.0, 0.1], np.array([2.0, 1.0, 0.5]))
    assert list(hits) == [1, 1, 3]


def test_parse_indices_and_method_budgets():
    assert bbob.parse_indices("1-3,7") == [1, 2, 3, 7]
    with pytest.raises(ValueError, match="no indices"):
        bbob.parse_indices(",")
    assert bbob.method_budgets("cbo,ng:NGOpt@100", 10, 1000) == [("cbo", 10_000), ("ng:NGOpt", 1000)]


cocoex = pytest.importorskip("cocoex", reason="the BBOB benchmark needs coco-experiment (bench extra)")


def test_optimal_value_matches_a_cma_run_to_1e_8():
    f_opt = bbob.optimal_value(1, 1, 2)
    r = bbob.run_problem("cma-ipop", 1, 1, 2, 2000, seed=0)
    assert r["error"] is None and min(r["deltas"]) <= 1e-8 and min(r["deltas"]) >= 0
    assert r["nfev"] < 2000, "the run stops at the final target"
    assert np.isfinite(f_opt)


def test_smoke_benchmark_cli(tmp_path, capsys):
    pytest.importorskip("cma")
    pytest.importorskip("matplotlib")
    from zoo.cli import main

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rc = main(
            [
                "bench",
                "bbob",
                "--methods",
                "cma-ipop,random-search,pycma-ipop@50",
                "--dim",
                "2",
                "--budget-per-dim",
                "100",
                "--functions",
                "1,15",
                "--instances",
                "1-2",
                "--quiet",
                "--out",
                str(tmp_path / "out"),
            ]
        )
    finally:
        os.chdir(cwd)
    assert rc == 0
    text = capsys.readouterr().out
    assert "| cma-ipop |" in text and "| random-search |" in text and "| pycma-ipop |" in text
    assert (tmp_path / "out" / "bbob-d2-ecdf.png").stat().st_size > 1000
    assert not (tmp_path / "exdata").exists(), "no cocoex observer output"
    runs = [json.loads(line) for line in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 3 * 2 * 2
    assert all(r["nfev"] <= r["budget"] for r in runs)
    table = bbob.score(runs, 2, (1e2,))
    assert 0 <= table["random-search"]["100"] <= table["cma-ipop"]["100"] <= 1
    assert table["pycma-ipop"]["budget"] == 100


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        (["--methods", "nope"], "unknown method"),
        (["--functions", "25"], "--functions"),
        (["--dim", "0"], "--dim 0"),
        (["--dim", "7"], "--dim 7: the bbob suite has dimensions 2, 3, 5, 10, 20, 40"),
        (["--budget-per-dim", "-1"], "--budget-per-dim must be positive"),
        (["--methods", "cma@-5"], "budget per dimension must be positive"),
        (["--methods", "cma@x"], "the budget after @"),
        (["--instances", "a-b"], "bad index"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_bad_cli_input_is_one_line_and_runs_nothing(tmp_path, capsys, extra, what):
    """Each bad argument: exit 2, one line naming it, no traceback, no run (``--dim 7`` and
    ``--budget-per-dim -1`` printed 120 tracebacks and exited 0 before)."""
    from zoo.cli import main

    argv = ["bench", "bbob", "--methods", "cma", "--dim", "2", "--functions", "1", "--quiet", *extra]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert what in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "runs.jsonl").exists()


def test_coco_output_writes_cocos_own_files(tmp_path):
    from zoo.cli import main

    coco = tmp_path / "coco"
    argv = ["bench", "bbob", "--methods", "cma,pycma-bipop", "--dim", "2", "--budget-per-dim", "50"]
    argv += ["--functions", "1,2", "--instances", "1", "--quiet", "--out", str(tmp_path / "out")]
    assert main([*argv, "--coco-output", str(coco)]) == 0
    for method in ("cma", "pycma-bipop"):
        infos = sorted((coco / "exdata" / method).rglob("*.info"))
        assert len(infos) == 2, "one COCO .info file per function"
        text = infos[0].read_text()
        assert f"algId = '{method}'" in text and "DIM = 2" in text
        assert list((coco / "exdata" / method).rglob("*.dat")), "COCO's evaluation data"


def test_old_import_path_keeps_working():
    from zoo import bench
    from zoo.bench import runner, scoring

    assert bbob.run_problem is runner.run_problem and bbob.targets is scoring.targets
    assert bench.__doc__


def test_progress_in_a_log_is_lines_without_carriage_returns(tmp_path, capsys):
    # before: the runner drew a tqdm bar, one carriage-return redraw per finished run, into a redirected log
    pytest.importorskip("cocoex")
    from zoo.bench.runner import run_benchmark

    runs = run_benchmark([("random-search", 5)], [1, 2], [1], 2, tmp_path / "runs.jsonl", progress=True)
    err = capsys.readouterr().err
    assert len(runs) == 2 and "\r" not in err
    assert "2/2 run" in err.splitlines()[-1] and "random-search f2 i1" in err


def test_anchor_cache_reuses_pycma_runs_and_compact_traces_score_the_same(tmp_path):
    pytest.importorskip("cocoex")
    pytest.importorskip("cma")
    from zoo.bench import runner, scoring

    cache = tmp_path / "anchors.jsonl"
    first = runner.run_benchmark(
        [("pycma-ipop", 50), ("random-search", 5)],
        [1, 3],
        [1],
        2,
        tmp_path / "a.jsonl",
        progress=False,
        anchor_cache=cache,
    )
    stored = runner.read_anchor_cache(cache)
    assert len(stored) == 2 and {k[0] for k in stored} == {"pycma-ipop"}  # zoo's own runs are never cached
    again = runner.run_benchmark(
        [("pycma-ipop", 50)], [1, 3], [1], 2, tmp_path / "b.jsonl", progress=False, anchor_cache=cache
    )
    assert all(r["cached"] for r in again) and len(runner.read_anchor_cache(cache)) == 2
    tg = scoring.targets()
    for r in (r for r in first if r["method"] == "pycma-ipop"):
        c = stored[(r["method"], r["function"], r["instance"], r["dim"], r["budget"], r["seed"])]
        assert len(c["evals"]) <= min(len(r["evals"]), scoring.N_TARGETS + 1)
        assert np.array_equal(
            scoring.hitting_evals(r["evals"], r["deltas"], tg),
            scoring.hitting_evals(c["evals"], c["deltas"], tg),
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        runner.read_anchor_cache(bad)
    with pytest.raises(ValueError, match="coco_output"):
        runner.run_benchmark(
            [("pycma-ipop", 5)],
            [1],
            [1],
            2,
            tmp_path / "c.jsonl",
            progress=False,
            anchor_cache=cache,
            coco_output=str(tmp_path / "coco"),
        )
