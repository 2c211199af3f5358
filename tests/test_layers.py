"""The architecture's arrows point one way: every module of the package is parsed (never imported) and each
import is checked against the rules below, which are the layering, written down.

```
scheduler.py / cli/  ->  Scrapy crawl (spiders/, middlewares.py, extensions.py, distributed.py)
   -> pipelines/ (Scrapy item pipelines): extract -> dedup -> store      extraction/: a library, no Scrapy, no db
   -> db/: models, records, versioned writes, runs, search          <-  cli/ (reading, rendering for people)
```
Neutral modules (standard library and pure helpers, no layer of their own) may be imported from anywhere.
Every import counts, at the top of a module or inside a function, or under ``TYPE_CHECKING``.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "cqnews"
ROOT = Path(__file__).resolve().parent.parent  # the repository root is the package
NOT_PACKAGE = {"tests", "bench", "build", "dist", ".venv", ".git", ".ci"}

# Shared by every layer: they import nothing of cqnews but each other, and neither Scrapy nor SQLAlchemy.
NEUTRAL = ("cqnews.fingerprints", "cqnews.startup", "cqnews.urls")
CRAWL = ("cqnews.pipelines", "cqnews.spiders", "cqnews.middlewares", "cqnews.extensions", "cqnews.archive_engine",
         "cqnews.distributed", "cqnews.items", "cqnews.settings", "cqnews.runner", "cqnews.scheduler")


@dataclass(frozen=True)
class Rule:
    """Modules under ``importers`` (dotted prefixes) import nothing under ``forbidden``, except ``allowed``."""

    says: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()  # importers the rule does not cover


RULES = [
    Rule("db/ knows nothing of Scrapy or Twisted",
         importers=("cqnews.db",), forbidden=("scrapy", "twisted")),
    Rule("db/ knows nothing of the crawl, the extraction library or the CLI: it takes plain records",
         importers=("cqnews.db",), forbidden=(*CRAWL, "cqnews.extraction", "cqnews.cli")),
    Rule("extraction/ is a library: no Scrapy, Twisted or SQLAlchemy, and of cqnews only the neutral modules",
         importers=("cqnews.extraction",), forbidden=("scrapy", "twisted", "sqlalchemy", "cqnews"),
         allowed=("cqnews.extraction", *NEUTRAL)),
    Rule("neutral modules depend on no layer",
         importers=NEUTRAL, forbidden=("scrapy", "twisted", "sqlalchemy", "cqnews"), allowed=NEUTRAL),
    Rule("pipelines/ and spiders/ run inside a crawl: they import neither the CLI nor the scheduler",
         importers=("cqnews.pipelines", "cqnews.spiders"), forbidden=("cqnews.cli", "cqnews.scheduler")),
    Rule("the extraction pool's modules (its forkserver and workers import them) import no Scrapy, Twisted or db code",
         importers=(POOL := ("cqnews.pipelines.forkserver", "cqnews.pipelines.extract_worker")),
         forbidden=("scrapy", "twisted", "sqlalchemy", *CRAWL, "cqnews.db"), allowed=POOL),
    Rule("web/ reads the archive through db/: no Scrapy, Twisted, crawl or extraction library",
         importers=("cqnews.web",), forbidden=("scrapy", "twisted", *CRAWL, "cqnews.extraction")),
    Rule("nothing imports cli/ but cli/ itself and `python -m cqnews`",
         importers=(PACKAGE,), forbidden=("cqnews.cli",), exempt=("cqnews.cli", "cqnews.__main__")),
]


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name: the root's .py files and those of each folder with an
    ``__init__.py`` below it (demo data and the non-package folders left out)."""
    modules: dict[str, Path] = {}

    def walk(folder: Path, dotted: str) -> None:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix == ".py":
                modules[dotted if path.stem == "__init__" else f"{dotted}.{path.stem}"] = path
            elif path.is_dir() and not path.is_symlink() and path.name not in NOT_PACKAGE \
                    and (path / "__init__.py").is_file():
                walk(path, f"{dotted}.{path.name}")

    walk(root, PACKAGE)
    return modules


def imports_of(module: str, source: str, is_package: bool, known: set[str]) -> Iterator[tuple[int, str, str]]:
    """(line, imported module, the import as written) for each import in ``source``, relative ones resolved.

    ``from a import b`` names ``a.b`` when that is one of the package's modules, else ``a``.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            written = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            for alias in node.names:
                yield node.lineno, (f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base), written


@dataclass(frozen=True)
class Arrow:
    importer: str
    path: Path
    line: int
    imported: str
    written: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.written}"


def arrows(root: Path = ROOT) -> list[Arrow]:
    modules = package_modules(root)
    known = set(modules)
    found = []
    for name, path in modules.items():
        for line, imported, written in imports_of(name, path.read_text(encoding="utf-8"),
                                                  path.name == "__init__.py", known):
            found.append(Arrow(name, path, line, imported, written))
    return found


def backward(rule: Rule, all_arrows: list[Arrow]) -> list[str]:
    return list(dict.fromkeys(str(a) for a in all_arrows  # one line per import statement
                              if _under(a.importer, rule.importers) and not _under(a.importer, rule.exempt)
                              and _under(a.imported, rule.forbidden) and not _under(a.imported, rule.allowed)
                              and not _under(a.imported, (a.importer,))))


@pytest.fixture(scope="module")
def all_arrows() -> list[Arrow]:
    return arrows()


@pytest.mark.parametrize("rule", [pytest.param(rule, id=rule.says) for rule in RULES])
def test_no_arrow_runs_backwards(rule: Rule, all_arrows: list[Arrow]) -> None:
    assert backward(rule, all_arrows) == [], rule.says


def test_our_modules_are_imported_by_their_cqnews_names(all_arrows: list[Arrow]) -> None:
    """``import db`` or ``from settings import ...`` works only when the repository is the working folder,
    and then loads a second copy of the module beside ``cqnews.db``: imports are qualified or relative."""
    ours = {name.split(".")[1] for name in package_modules() if name.count(".") >= 1}
    bare = [str(a) for a in all_arrows if a.imported.split(".")[0] in ours]
    assert bare == []


def test_the_scan_sees_the_whole_package_and_resolves_relative_imports() -> None:
    modules = package_modules()
    for name in ("cqnews.__main__", "cqnews.db.archive", "cqnews.extraction.article", "cqnews.pipelines.store",
                 "cqnews.cli.render", "cqnews.fingerprints", "cqnews.migrations.env"):
        assert name in modules
    assert not any(_under(name, ("cqnews.tests", "cqnews.bench")) for name in modules)
    known = {"cqnews.db", "cqnews.db.models", "cqnews.db.search", "cqnews.cli", "cqnews.cli.render"}
    source = "from . import models\nfrom .models import Article\nfrom ..cli import render\nimport scrapy.http\n"
    assert [imported for _, imported, _ in sorted(imports_of("cqnews.db.search", source, False, known))] == [
        "cqnews.db.models", "cqnews.db.models", "cqnews.cli.render", "scrapy.http"]
    rule = next(r for r in RULES if r.forbidden == ("scrapy", "twisted"))
    found = [Arrow("cqnews.db.search", ROOT / "db" / "search.py", line, imported, written)
             for line, imported, written in imports_of("cqnews.db.search", source, False, known)]
    assert backward(rule, found) == ["db/search.py:4: import scrapy.http"]



TESTS = ROOT / "tests"


def imports_of_test_modules(source: str, test_modules: set[str]) -> list[tuple[int, str]]:
    """(line, module) for each import in ``source`` of one of ``test_modules`` (bare, or as ``tests.NAME``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in test_modules or (parts[0] == "tests" and len(parts) > 1 and parts[1] in test_modules):
                found.append((node.lineno, name))
    return found


def test_no_test_module_imports_another() -> None:
    """A test module imported by another drags its fixtures and module-level setup along and ties the two
    together; what several test modules share lives in tests/helpers.py."""
    paths = sorted(TESTS.glob("test_*.py"))
    names = {p.stem for p in paths}
    assert {"test_archive", "test_search", "test_layers"} <= names  # the scan sees the test modules
    imports = [f"tests/{p.name}:{line}: {name}" for p in paths
               for line, name in imports_of_test_modules(p.read_text(encoding="utf-8"), names)]
    assert imports == []


def test_the_test_import_scan_finds_every_spelling() -> None:
    source = ("import test_search\nfrom test_archive import URL\nfrom tests.test_diff import OLD\n"
              "import tests.test_export as e\nfrom helpers import URL\nimport json\nfrom . import test_x\n")
    assert imports_of_test_modules(source, {"test_search", "test_archive", "test_diff", "test_export"}) == [
        (1, "test_search"), (2, "test_archive"), (3, "tests.test_diff"), (4, "tests.test_export")]
