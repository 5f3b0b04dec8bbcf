"""envs/*.yaml must carry the same pins as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements):
    return {
        re.split(r"[\[=<>]", req, maxsplit=1)[0].lower(): req.split("==")[1]
        for req in requirements
        if "==" in req
    }


def test_conda_env_pins_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = _pins(project["dependencies"])
    for env_file in sorted((ROOT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert _pins(pip) == expected, env_file.name


def test_constraints_agree_with_pyproject():
    expected = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    constraints = {k: v for k, v in _pins(lines).items() if k in expected}
    assert constraints == expected
