"""The package's layout rules, read from the source (AST, nothing imported).

- Layers: a module imports its own layer and the ones below it, never one above
  (cli -> ops -> resources -> services -> engine -> config/aws/net/errors). So the
  engine, which runs the pipeline, knows no resource kind: the kinds register
  themselves with it (resources/__init__.py).
- The sandbox imports no product module but `errors`, and only the commands import it;
  inside it, a core and one subpackage per service.
- No import circle anywhere.

A new import that breaks a rule fails here with the offending module named, before it
turns into an import-order bug. Imports inside functions and under TYPE_CHECKING count
(they are dependencies all the same), and so do `importlib.import_module(...)` and
`__import__(...)` calls: a name built at run time (an f-string) counts as importing
every module under its literal prefix.
"""

from __future__ import annotations

import ast
from pathlib import Path

import failover_cli

PACKAGE_ROOT = Path(failover_cli.__file__).parent
PACKAGE = "failover_cli"
SANDBOX = "failover_cli.sandbox"
SERVICES = {
    "lambda_",
    "route53",
    "apigateway",
    "dynamodb",
    "autoscaling",
    "cloudwatch",
    "sns",
    "acm",
    "watch",
}
# Service-to-service imports that mirror a coupling AWS itself has; each is
# explained in the importing subpackage's docstring.
DELIBERATE = {
    ("failover_cli.sandbox.apigateway.domains", "failover_cli.sandbox.acm.validation"),
    # A custom domain holds its certificate in ACM (InUseBy) and releases it late.
    ("failover_cli.sandbox.apigateway.domains", "failover_cli.sandbox.acm.in_use"),
    ("failover_cli.sandbox.apigateway.custom_domains", "failover_cli.sandbox.route53.records"),
    # API Gateway may invoke a function (version, alias) only as its resource policy allows.
    ("failover_cli.sandbox.apigateway.execute_api", "failover_cli.sandbox.lambda_.permissions"),
}
COMPOSITION_ROOT = "failover_cli.sandbox.server"  # the one core module that assembles services

# Top-level parts of the package, highest layer first (docs/architecture.md says each
# one's job). `__main__` runs the commands; `__init__` is the package itself.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cli", "__main__"}),  # the commands (the demo with them: it drives them)
    frozenset({"ops", "permissions"}),  # what commands do beyond the pipeline; their IAM
    frozenset({"resources"}),  # the resource kinds, one registered kind per module
    frozenset({"services"}),  # what kinds and commands share about one AWS thing
    frozenset({"engine"}),  # the pipeline: desired -> observe -> plan -> apply
    frozenset(
        {
            "config",
            "aws",
            "net",
            "errors",
            "bundle",
            "deps",
            "access",
            "cost",
            "lambda_bundle",
            "__init__",
        }
    ),
)
ISOLATED = "sandbox"  # imports only ISOLATED_MAY_USE; imported only by the top layer
ISOLATED_MAY_USE = frozenset({"errors"})
# Sandbox modules that still borrow product code (landed while issue 19 drew the line):
# each should get the sandbox's own version, as the token buckets did; none may be added.
SANDBOX_BORROWS = {
    ("failover_cli.sandbox.lambda_.host_deps", "failover_cli.deps.installed"),
    ("failover_cli.sandbox.lambda_.host_deps", "failover_cli.access.ranges"),  # cache_folder
}


def module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _dynamic_import(node: ast.Call) -> str | None:
    """The module name (or, for an f-string, its literal prefix + "*") that an
    `import_module(...)` / `__import__(...)` call loads; None for other calls and for
    names that are not written out in the source."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr):
        prefix = ""
        for part in first.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            prefix += part.value
        return prefix + "*" if prefix else None
    return None  # a name held in a variable (a user's handler module): not the package's


def imports_of(path: Path, modules: set[str], name: str = "") -> set[str]:
    """The package modules `path` (module `name`) imports (a package's submodule when named)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.Call):
            target = _dynamic_import(node)
            if target is None:
                continue
            if target.endswith("*"):  # what the prefix can name, but the importer itself
                found.update(m for m in modules if m.startswith(target[:-1]) and m != name)
            else:
                found.add(target)
    return {name for name in found if name in modules}


def import_graph(prefix: str, root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    paths = {module_name(path, root): path for path in root.rglob("*.py")}
    modules = set(paths)
    return {
        name: imports_of(path, modules, name)
        for name, path in paths.items()
        if name == prefix or name.startswith(prefix + ".")
    }


def part_of(module: str) -> str:
    """The top-level part a module belongs to: `cli` for pkg.cli.cmd_up, `__init__` for pkg."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(part: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if part in layer), None)


def wrong_way_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs that break the layers or the sandbox's isolation; a part
    in no layer at all is reported as importing itself (it needs a place)."""
    wrong: set[tuple[str, str]] = set()
    for module, imported in graph.items():
        source = part_of(module)
        if source != ISOLATED and layer_of(source) is None:
            wrong.add((module, module))
            continue
        for target in imported:
            goal = part_of(target)
            if goal == source:
                continue
            if source == ISOLATED:
                ok = goal in ISOLATED_MAY_USE
            elif goal == ISOLATED:
                ok = layer_of(source) == 0
            else:
                upward = layer_of(goal)
                ok = upward is not None and upward >= (layer_of(source) or 0)
            if not ok:
                wrong.add((module, target))
    return wrong


def service_of(module: str) -> str | None:
    rest = module.removeprefix(SANDBOX + ".").split(".")
    return rest[0] if len(rest) > 1 and rest[0] in SERVICES else None


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle in `graph` as [a, b, ..., a], or [] when there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done or module not in graph:
            return []
        for imported in sorted(graph[module]):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return []

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return []


def test_every_service_subpackage_exists_and_says_which_moto_gaps_it_fills() -> None:
    for service in SERVICES:
        init = PACKAGE_ROOT / "sandbox" / service / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring, f"{init} needs a docstring saying which moto gaps it fills"


def test_services_import_only_the_core_except_the_deliberate_couplings() -> None:
    crossings = set()
    for module, imported in import_graph(SANDBOX).items():
        for target in imported:
            if not target.startswith(SANDBOX + "."):
                continue
            source_service, target_service = service_of(module), service_of(target)
            if target_service is None or target_service == source_service:
                continue  # the core, or within one service
            if source_service is None and module != COMPOSITION_ROOT:
                crossings.add((module, target))  # the core must not know a service
            elif source_service is not None:
                crossings.add((module, target))
    assert crossings == DELIBERATE


def test_the_package_has_no_import_circle() -> None:
    assert find_cycle(import_graph("failover_cli")) == []


def test_the_circle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_every_import_goes_down_the_layers() -> None:
    assert wrong_way_imports(import_graph(PACKAGE)) == SANDBOX_BORROWS


def test_resources_holds_only_modules_that_register_a_kind() -> None:
    """One registered kind per module (`HANDLER`), plus the package face that registers them."""
    for path in sorted((PACKAGE_ROOT / "resources").glob("*.py")):
        if path.name == "__init__.py":
            continue
        names = {
            target.id
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "HANDLER" in names, f"{path} registers no kind: shared helpers go to services/"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_layer_check_refuses_wrong_way_imports_including_importlib(tmp_path: Path) -> None:
    """The rules above catch what they claim to, on a tiny package shaped like this one."""
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/errors.py": "",
            "pkg/config/__init__.py": "",
            "pkg/config/schema.py": "from pkg import errors\n",
            "pkg/cli/__init__.py": "",
            "pkg/cli/cmd_up.py": "from pkg.engine import stack\nfrom pkg.sandbox import server\n",
            "pkg/engine/__init__.py": "",
            "pkg/engine/stack.py": "from pkg.config.schema import X\n",
            # The circle issue 19 removed: the engine loading every kind by name.
            "pkg/engine/registry.py": (
                "import importlib\n\n"
                "def module_for(kind):\n"
                "    return importlib.import_module(f'pkg.resources.{kind}')\n"
            ),
            "pkg/engine/lazy.py": "def f():\n    return __import__('pkg.ops.status')\n",
            "pkg/ops/__init__.py": "",
            "pkg/ops/status.py": "from pkg.resources import role\n",
            "pkg/resources/__init__.py": "",
            "pkg/resources/role.py": "from pkg.engine.registry import module_for\n",
            "pkg/resources/table.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.ops.status import S\n"
            ),
            "pkg/sandbox/__init__.py": "",
            "pkg/sandbox/server.py": "from pkg import errors\nfrom pkg.config import schema\n",
            "pkg/stray/__init__.py": "",
        },
    )
    graph = import_graph("pkg", root)
    assert graph["pkg.engine.registry"] == {"pkg.resources.role", "pkg.resources.table"}
    assert wrong_way_imports(graph) == {
        ("pkg.engine.registry", "pkg.resources.role"),
        ("pkg.engine.registry", "pkg.resources.table"),
        ("pkg.engine.lazy", "pkg.ops.status"),
        ("pkg.resources.table", "pkg.ops.status"),
        ("pkg.sandbox.server", "pkg.config.schema"),
        ("pkg.stray", "pkg.stray"),
    }
    assert set(find_cycle(graph)) == {"pkg.engine.registry", "pkg.resources.role"}


def test_the_layer_check_passes_a_package_that_keeps_the_rules(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/errors.py": "",
            "pkg/cli/__init__.py": "",
            "pkg/cli/cmd_up.py": "import pkg.resources\nfrom pkg.sandbox import server\n",
            "pkg/engine/__init__.py": "",
            "pkg/engine/registry.py": "HANDLERS = {}\n",
            "pkg/resources/__init__.py": "from pkg.engine.registry import HANDLERS\n",
            "pkg/sandbox/__init__.py": "",
            "pkg/sandbox/server.py": "from pkg.errors import E\nimport importlib\n"
            "importlib.import_module('pkg.sandbox.route53')\n",
            "pkg/sandbox/route53.py": "",
        },
    )
    graph = import_graph("pkg", root)
    assert wrong_way_imports(graph) == set()
    assert find_cycle(graph) == []
