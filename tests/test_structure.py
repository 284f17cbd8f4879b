"""The shape of the house: pages never see the model, viz/ imports one way, modules and pages stay short."""

import ast
from pathlib import Path

from conftest import ROOT

from viz.site import PAGES

PAGE_LINES, MODULE_LINES = 150, 300


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every viz module a file imports, at any depth (imports inside functions count too).

    `from viz.ui import cached` imports the module viz.ui.cached; `from viz.ui.links import linked` viz.ui.links."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                is_module = (ROOT / Path(*submodule.split("."))).with_suffix(".py").exists()
                found.add(submodule if is_module else node.module)
    return {name for name in found if name.startswith("viz")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_pages_never_see_the_model():
    """No page (nor a page's sections) imports viz.model or touches a tokenizer in code (its words may say one)."""
    for path in python_files("pages") + python_files("viz/views"):
        tree = ast.parse(path.read_text())
        assert not any(m.startswith("viz.model") for m in imported_modules(path)), f"{path.name} imports viz.model"
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not {name for name in names if "tokenizer" in name.lower()}, f"{path.name} touches a tokenizer"
        assert "LoadedModel" not in names, f"{path.name} holds a model"


def test_viz_imports_have_no_cycle():
    modules = {module_name(path): path for path in python_files("viz")}
    edges = {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in sorted(edges[name]):
            assert state.get(other) != "open", "import cycle: " + " -> ".join([*trail, name, other])
            if other not in state:
                visit(other, [*trail, name])
        state[name] = "done"

    for name in sorted(modules):
        if name not in state:
            visit(name, [])


def test_glue_imports_one_way_in_the_documented_order():
    order = ["links", "classroom", "export", "cached", "session", "sidebar", "widgets"]
    for rank, name in enumerate(order):
        imported = {m.split(".")[2] for m in imported_modules(ROOT / "viz" / "ui" / f"{name}.py")
                    if m.startswith("viz.ui.")}
        later = imported & set(order[rank:])
        assert not later, f"viz/ui/{name}.py imports {later}, which come after it"


def test_modules_and_pages_stay_short():
    for path in python_files("viz") + python_files("pages") + python_files("bench") + [ROOT / "app.py"]:
        lines = len(path.read_text().splitlines())
        limit = PAGE_LINES if path.parent.name == "pages" else MODULE_LINES
        assert lines <= limit, f"{path.relative_to(ROOT)} has {lines} lines (limit {limit})"


def test_every_listed_page_exists_and_every_page_is_listed():
    listed = {page.file for page in PAGES}
    on_disk = {f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py")}
    assert listed == on_disk
