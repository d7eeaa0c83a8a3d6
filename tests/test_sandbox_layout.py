"""The sandbox's layout rule (a core, one subpackage per service) and no import circle anywhere.

Read from the source (AST, nothing imported), so a new import that breaks the
rule fails here with the offending module named, before it turns into an
import-order bug. Imports inside functions count too: they are dependencies
all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import failover_cli

PACKAGE_ROOT = Path(failover_cli.__file__).parent
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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The failover_cli modules `path` imports (a package's submodule when named)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph(prefix: str) -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    modules = set(paths)
    return {
        name: imports_of(path, modules)
        for name, path in paths.items()
        if name == prefix or name.startswith(prefix + ".")
    }


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
