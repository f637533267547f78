"""Per-seed table of a ``fed_suite.py`` log: FZooS's final F / FedZO's final F and FZooS's queries to FedZO's
final F as a ratio of FedZO's ("missed" where FZooS never reached it), one row per problem, one column per seed.

    .venv/bin/python benchmarks/fed_suite_table.py benchmarks/out/fed_suite.log [more logs ...]

Reads the per-seed lines the suite prints (``problem seed s  FedZO final F | fedzo r=.. q=.. F=.. | ...``);
with several logs (e.g. before / after), one table per log, and a line per problem where the rows differ.
"""

from __future__ import annotations

import re
import sys

LINE = re.compile(r"^(\S+)\s+seed (\d+)\s+FedZO final (\S+)\s+\|(.*)$")
RUN = re.compile(r"(\w+) (DIVERGED)?r=(\S+) q=(\S+) F=(\S+)")


def parse(path: str) -> dict[str, dict[int, dict]]:
    rows: dict[str, dict[int, dict]] = {}
    for text in open(path):
        m = LINE.match(text.strip())
        if not m:
            continue
        problem, seed, _target, rest = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        runs = {r.group(1): r for r in RUN.finditer(rest)}
        if "fzoos" not in runs or "fedzo" not in runs:
            continue
        fz, fe = runs["fzoos"], runs["fedzo"]
        q, q0 = fz.group(4), fe.group(4)
        rows.setdefault(problem, {})[seed] = {
            "fz": fz.group(5),
            "fe": fe.group(5),
            "diverged": bool(fz.group(2)),
            "ratio": None if q == "None" else int(q) / int(q0),
        }
    return rows


def cell(r: dict) -> str:
    if r["diverged"]:
        return "**diverged**"
    tail = "**missed**" if r["ratio"] is None else f"{r['ratio']:.2f}"
    return f"{float(r['fz']):.4g} / {float(r['fe']):.4g} ({tail})"


def table(rows: dict[str, dict[int, dict]]) -> str:
    seeds = sorted({s for per in rows.values() for s in per})
    out = ["| problem | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---" * (len(seeds) + 1) + "|"]
    for problem, per in rows.items():
        out.append(f"| {problem} | " + " | ".join(cell(per[s]) if s in per else "" for s in seeds) + " |")
    reached = sum(r["ratio"] is not None for per in rows.values() for r in per.values())
    total = sum(len(per) for per in rows.values())
    out.append(f"\nFZooS reached FedZO's final F on {reached} of {total} runs")
    return "\n".join(out)


def main(paths: list[str]) -> int:
    parsed = [parse(p) for p in paths]
    for path, rows in zip(paths, parsed):
        print(f"\n{path}\n\n{table(rows)}")
    if len(parsed) > 1:
        first = parsed[0]
        for path, rows in zip(paths[1:], parsed[1:]):
            same = [p for p in rows if rows[p] == first.get(p)]
            print(f"\n{path} vs {paths[0]}: identical rows on {len(same)} of {len(rows)} problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
