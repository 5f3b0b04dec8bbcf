"""A non-editable install (wheel of the checkout) gives a working CLI from any folder.

The wheel is built from a copy of the files it is made of (so the checkout
gets no build/ folder) and installed without dependencies into a fresh
venv; the dependencies come from the test's own environment through a
``.pth`` line, so nothing but the build backend is downloaded.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def run(args, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout}\n{out.stderr}"
    return out


def copy_sources(dest: Path) -> None:
    """pyproject.toml, README, LICENSE, src/ and every data file of [tool.setuptools.data-files]."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    data_files = [f for files in pyproject["tool"]["setuptools"]["data-files"].values() for f in files]
    for name in ["pyproject.toml", "README.md", "LICENSE", *data_files]:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))


def test_wheel_install_runs_from_a_temporary_folder(tmp_path):
    source, wheels, venv, work = (tmp_path / name for name in ("source", "wheels", "venv", "work"))
    for folder in (source, work):
        folder.mkdir()
    copy_sources(source)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, source])
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (purelib / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(wheels.glob("constrict-*.whl"))
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel])

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CONSTRICT_DATA_DIR")}
    env["CONSTRICT_CACHE_DIR"] = str(tmp_path / "cache")
    where = run(
        [python, "-c", "import constrict, constrict.core.paths as p; print(constrict.__file__); print(p.data_dir())"],
        cwd=work, env=env,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(venv) and Path(where[1]).is_relative_to(venv)

    constrict = venv / "bin" / "constrict"
    out = run([constrict, "interface", "Li7P3S11", "LiNbO3"], cwd=work, env=env).stdout
    assert "x_m = 0.4878 (coating atom fraction), mutual = True" in out
    assert " 4.00 " in out and "9.20" in out
    out = run([constrict, "window", "Li10GeP2S12", "--keff", "15"], cwd=work, env=env).stdout
    assert "unconstrained window 1.721 - 2.291 V" in out and "(released_metal) 0.491 V - 3.389 V" in out
    run([python, "-c", "from constrict.core.config import load_config; load_config()"], cwd=work, env=env)
    assert list(work.iterdir()) == []
