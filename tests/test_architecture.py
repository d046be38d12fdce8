"""Imports run one way: blueprints -> services -> data -> models -> analysis.

Every ``import`` in the package is read, the ones inside functions too (a lazy import that
points up the layers is still a cycle, only hidden until run time). docs/ARCHITECTURE.md
draws the same picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "surveyapp"

# Lower numbers sit lower: a module may import its own layer and the layers below it.
LAYERS: dict[str, int] = {
    "analysis": 0,
    "config": 0,
    "instruments": 0,
    "passwords": 0,  # data: the common-passwords list
    "hygiene": 0,  # one text filter for every input (forms, imports, the command line)
    "xlsx": 0,  # openpyxl only: writing text cells as text (the analysis CLI uses it too)
    "models": 1,
    "localtime": 1,  # local days and months <-> UTC instants (the installation's time zone)
    "extensions": 1,  # binds the models' metadata to Flask-SQLAlchemy
    "data": 2,
    "i18n": 2,
    "formatting": 2,  # the one number and date rule (Babel, the current locale)
    "services": 3,
    "forms": 4,
    "auth": 5,
    "errors": 5,
    "security": 5,
    "routing": 5,
    "cli_common": 5,
    "public": 6,
    "entry": 6,
    "admin": 6,
    "dashboard": 6,
    "api": 6,
    "cli": 6,
    "entry_point": 7,
    "": 7,  # the package root: create_app registers every blueprint and command module
}


def _layer_of(dotted: str) -> str:
    parts = dotted.split(".")
    if len(parts) < 2:
        return ""
    is_module = (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file()
    return parts[1] if is_module else ""  # a name defined in the root, e.g. create_app


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "surveyapp":
                found += [(node.lineno, f"surveyapp.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] == "surveyapp"]


def _modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            module = ".".join(parts)
            out.append((path, module + ".__init__"))
        else:
            out.append((path, ".".join(parts)))
    return out


def test_every_top_level_module_has_a_layer() -> None:
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    names = {n for n in names if not n.startswith(("_", ".")) and n not in {"templates", "static"}}
    names -= {"translations"}
    missing = sorted(n for n in names if n not in LAYERS)
    assert not missing, f"give these a layer in LAYERS: {missing}"


@pytest.mark.parametrize("path,module", _modules(), ids=lambda v: str(v).split("/")[-1])
def test_imports_point_down(path: Path, module: str) -> None:
    source = _layer_of(module.removesuffix(".__init__"))
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for line, target in _imports(path, module)
        if (layer := _layer_of(target)) != source and LAYERS[layer] > LAYERS[source]
    ]
    assert not wrong, "imports that point up the layers:\n" + "\n".join(wrong)
