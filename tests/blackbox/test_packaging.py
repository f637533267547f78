"""Packaging: a free distribution name, SPDX license + LICENSE, py.typed, cma in core, one version string."""

from pathlib import Path

import tomllib

import zoo

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    proj = meta["project"]
    assert proj["name"] == "zoo-dfo"  # "zoo" on the index is another project (pip download zoo -> zoo-0.1a0)
    assert proj["license"] == "MIT" and proj["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "zoo" / "py.typed").exists() and "py.typed" in meta["tool"]["setuptools"]["package-data"][
        "zoo"
    ]
    assert any(d.startswith("cma") for d in proj["dependencies"])
    assert "version" in proj["dynamic"] and "version" not in proj
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "zoo.__version__"}
    extras = proj["optional-dependencies"]
    assert "dev" not in extras["all"][0] and all(
        not any(t in d for t in ("pytest", "ruff")) for d in extras["all"]
    )
    assert '".[all,dev]"' in (ROOT / "Makefile").read_text()


def test_cma_methods_work_in_a_core_install():
    for name in ("cma", "ipop", "bipop", "auto"):
        assert name in zoo.methods()
        zoo.get(name)
