"""No module imports a layer above it (docs/architecture.md):
networks < envs < engine < agents | generative < app (and the `gymforge` package itself, the user's front door).

Every import counts, the ones inside functions too (a lazy import of a higher layer is still a dependency on it),
and so does every string that names a module (`"gymforge.agents.ppo"`, `"gymforge.envs.catch:CatchEnv"`):
the registry and Gymnasium's entry points import through strings.
"""

from __future__ import annotations

import ast
import re

from tests.helpers import ROOT

# the folder each part of the namespace lives in (pyproject.toml's package-dir)
FOLDERS = {"networks": "networks", "envs": "envs", "engine": "gymforge/engine", "agents": "agents",
           "generative": "generative", "app": "gymforge/app"}
LAYERS = {"networks": 0, "envs": 1, "engine": 2, "agents": 3, "generative": 3, "app": 4, "top": 5}
ALLOWED_SIDEWAYS = {("agents", "generative")}  # a world-model agent uses generative's VAE; never the reverse
MODULE_STRING = re.compile(r"^gymforge(\.\w+)+(:\w+)?$")


def layer_of(module: str) -> str:
    """gymforge.agents.ppo -> agents; gymforge (the package's own __init__ and __main__) -> top."""
    parts = module.split(".")
    if parts[0] != "gymforge":
        return "outside"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "top"


def imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # from gymforge.engine import run
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.match(node.value):
            found.add(node.value.partition(":")[0])
    return {name for name in found if layer_of(name) != "outside"}


def wrong_imports() -> list[str]:
    wrong = []
    for part, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(("gymforge", part, *path.relative_to(ROOT / folder).with_suffix("").parts))
            for name in imports(path):
                theirs = layer_of(name)
                if theirs == part or (part, theirs) in ALLOWED_SIDEWAYS:
                    continue
                if LAYERS[theirs] >= LAYERS[part]:
                    wrong.append(f"{module.removesuffix('.__init__')} ({part}) imports {name} ({theirs})")
    return wrong


def test_no_module_imports_a_layer_above_it():
    wrong = wrong_imports()
    assert not wrong, "\n".join(wrong)


def test_a_string_import_of_a_higher_layer_is_seen(tmp_path, monkeypatch):
    """The registry's table once named `agents.ppo` from inside the engine, where no import statement showed it."""
    engine = tmp_path / "gymforge" / "engine"
    engine.mkdir(parents=True)
    (engine / "table.py").write_text('TABLE = {"ppo": "gymforge.agents.ppo:PPO"}\n')
    monkeypatch.setitem(FOLDERS, "engine", "gymforge/engine")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    for part in set(FOLDERS) - {"engine"}:
        monkeypatch.delitem(FOLDERS, part)
    assert wrong_imports() == ["gymforge.engine.table (engine) imports gymforge.agents.ppo (agents)"]


def module_graph() -> dict[str, set[str]]:
    """Every gymforge module -> the gymforge modules it imports (statements anywhere, and module strings)."""
    modules = {}
    for part, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            name = ".".join(("gymforge", part, *path.relative_to(ROOT / folder).with_suffix("").parts))
            modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports(path):  # `from gymforge.engine import run` names a module; `import x.y` too
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(f"{imported}."):
                targets.add(imported)  # a package's own __init__ above it is no circle of the module's making
        graph[name] = targets
    return graph


def test_no_import_circle():
    """No two modules import each other, directly or around a loop (lazy imports included)."""
    graph = module_graph()
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            raise AssertionError(f"import circle: {' -> '.join(stack[stack.index(module):] + [module])}")
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, stack + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_no_file_of_agents_is_longer_than_450_lines():
    """One concept per file: a 744-line agents/worldmodel.py held V, M, C, its episodes and its frames at once."""
    long = {path.name: n for path in (ROOT / "agents").glob("*.py") if (n := len(path.read_text().splitlines())) > 450}
    assert not long, long
