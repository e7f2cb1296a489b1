"""No module imports a layer above it (docs/architecture.md): networks < envs < engine < agents | generative < top.

Every import counts, the ones inside functions too: a lazy import of a higher layer is still a dependency on it.
"""

from __future__ import annotations

import ast

from tests.helpers import ROOT

TOP = {"gymforge.api", "gymforge.cli", "gymforge.tune", "gymforge.__main__"}
LAYERS = {"networks": 0, "envs": 1, "gymforge": 2, "agents": 3, "generative": 3, "top": 4}
ALLOWED_SIDEWAYS = {("agents", "generative")}  # a world-model agent uses generative's VAE; never the reverse


def layer_of(module: str) -> str:
    if module in TOP or any(module.startswith(f"{top}.") for top in TOP):
        return "top"
    return module.split(".")[0]


def imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # from gymforge import api
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.split(".")[0] in LAYERS}


def test_no_module_imports_a_layer_above_it():
    wrong = []
    for package in ("networks", "envs", "gymforge", "agents", "generative"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            mine = layer_of(module)
            for name in imports(path):
                theirs = layer_of(name)
                if theirs == mine or (mine, theirs) in ALLOWED_SIDEWAYS:
                    continue
                if LAYERS[theirs] >= LAYERS[mine]:
                    wrong.append(f"{module} ({mine}) imports {name} ({theirs})")
    assert not wrong, "\n".join(wrong)
