"""The package as a user installs it: a wheel whose top level is `cqnews` alone, whose demo works from any folder,
even one holding files named like the modules other projects put at the top of site-packages.

The wheel is built offline (--no-build-isolation, with the dev extra's setuptools) and installed without its
dependencies into a fresh virtualenv, which reads them from this test run's environment through a .pth line:
the point is what the wheel holds and how it starts, not reinstalling Scrapy.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cqnews.db.models import Article
from cqnews.db.session import make_engine, make_sessionmaker

REPO = Path(__file__).resolve().parent.parent
HOSTILE = 'raise SystemExit("a stray {name} in the working folder was imported")\n'


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "cqnews"  # a copy: building writes build/ and egg-info beside it
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "data", "*.egg-info",
                                                                 "__pycache__", ".*_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    (built,) = out.glob("cqnews-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its `cqnews` script."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies from this environment, after the venv's own site-packages (where the wheel goes).
    # A .pth-added folder's own .pth files are not run, so the editable install's import hook stays out.
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", "utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return venv / "bin" / "cqnews"


def test_the_wheel_installs_one_top_level_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert archive.read(top_level).decode().split() == ["cqnews"]
    assert {n.split("/")[0] for n in names} == {"cqnews", top_level.split("/")[0]}
    assert not [n for n in names if n.startswith(("cqnews/tests/", "cqnews/bench/"))]
    assert "cqnews/demo/sites/cq_people/expected.json" in names  # the demo's sites are package data


def test_demo_runs_from_a_folder_of_stray_modules(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("settings.py", "cli.py", "items.py", "scheduler.py", "distributed.py", "spiders.py", "db.py",
                 "cqnews.py", "trafilatura.py"):
        (work / name).write_text(HOSTILE.format(name=name), "utf-8")
    database = work / "data" / "archive.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQNEWS_") and k != "PYTHONPATH"}
    env |= {"CQNEWS_DATABASE_URL": f"sqlite:///{database}", "CQNEWS_EXTRACT_PROCESSES": "2"}
    result = subprocess.run([str(installed), "demo", "--port", "0"], cwd=work, env=env, capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "stray" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_sessionmaker(engine)() as session:
            assert (session.scalar(select(func.count()).select_from(Article)) or 0) >= 20
    finally:
        engine.dispose()
    # and the children cqnews starts itself run the installed package, not the folder they start in
    child = subprocess.run([str(installed.with_name("python")), "-P", "-m", "cqnews", "sites"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0 and "cq_people" in child.stdout, child.stderr[-2000:]
