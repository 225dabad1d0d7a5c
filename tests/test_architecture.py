"""The house's shape, read from the source with ``ast``: imports go only downward, packages form no cycle, and
only ``providers/`` knows which providers exist.

Every ``.py`` of the project's packages is parsed (not ``.venv``, ``tests``, ``migrations``), imports inside
functions included: a lazy import is still a dependency. Today's exceptions are listed in ``KNOWN_*`` below,
each with why it is there; a test fails when one of them no longer occurs, so the lists can only shrink.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "tests", "migrations", "var", "node_modules", "__pycache__"}

# --- the layering, lowest first ---------------------------------------------------------------------------------
# A unit may import its own modules and any unit of a lower layer; units of one layer may import each other
# (no cycle, though). ``waportal`` is three units: its platform modules at the bottom (errors, sql, queueing,
# api, conf, input_policy, workers, ...), the shared admin building blocks (they need accounts' tenancy, so they sit
# just above accounts), and the project's top (settings, URLs, WSGI: they name every app). Each app's admin
# (``<app>.admin`` or ``<app>/admin/``) is presentation: above its app and above the shared admin.
LAYERS: list[set[str]] = [
    {"providers"},          # the adapters and their registry: import no app and no Django models
    {"waportal.platform"},  # errors, sql, queueing, API plumbing, input policy, task workers, settings access
    {"accounts"},           # provider accounts, tenants, tenancy: the bottom app
    {"waportal.admin"},     # shared admin building blocks (tenant scoping, badges): need accounts' tenancy
    {"templates_mgr"},
    {"messaging"},          # sending, webhooks, inbox: uses templates
    {"contacts"},           # contacts' tags, attributes, consent history, segments: on messaging's Contact
    {"campaigns"},          # bulk sends through messaging
    {"analytics"},          # reads everything below
    {"notifications"},      # alerts and outgoing webhooks: hear the apps below through their hooks
    {"workspace"},          # the staff's daily screens (inbox, thread) over every portal app; nothing imports it
    {"sandbox"},            # the simulator: uses the portal's public pieces; nothing in the portal imports it
    {"waportal.top"},       # settings, URLs, WSGI: name every app (the sandbox by dotted string)
    {"bench", "mutants", "deploy"},  # tools
]
WAPORTAL_TOP = {"settings", "urls", "api_urls", "wsgi", "asgi", "views"}
WAPORTAL_ADMIN = {"admin_base"}
APP_ADMIN_ABOVE = "waportal.admin"  # every app's admin may use the shared admin

# Upward imports that exist today: (importing file, imported module). Fix one, then delete its line here.
KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()

# Provider choices outside providers/: (file, the stripped line). The provider registry replaces them
# (ask ``providers.registry`` / the provider's capabilities); delete each line here as it goes.
KNOWN_PROVIDER_LITERALS: set[tuple[str, str]] = set()

PROVIDER_STRINGS = {"aldeamo", "contacto_virtual", "contacto-virtual"}
PROVIDER_ATTRIBUTES = {"ALDEAMO", "CONTACTO_VIRTUAL"}


# --- reading the source ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    path: str     # the importing file, relative to the project
    lineno: int
    target: str   # the imported module, resolved (``from a import b`` is ``a.b`` when b is a module)


def _is_skipped(path: Path) -> bool:
    return any(part in SKIPPED_DIRS or part.startswith(".") for part in path.relative_to(ROOT).parts[:-1])


@cache
def project_files() -> tuple[Path, ...]:
    files = []
    for package in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name not in SKIPPED_DIRS
                          and not p.name.startswith(".")):
        files.extend(path for path in sorted(package.rglob("*.py")) if not _is_skipped(path))
    return tuple(files)


@cache
def top_packages() -> frozenset[str]:
    return frozenset(path.relative_to(ROOT).parts[0] for path in project_files())


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    rel = str(path.relative_to(ROOT))
    found = []
    for node in ast.walk(parsed(path)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if _is_module(f"{source}.{alias.name}") else source
                       for alias in node.names]
        found.extend(Import(rel, node.lineno, target) for target in dict.fromkeys(targets)
                     if target.split(".")[0] in top_packages())
    return found


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "sandbox":
        return "sandbox"
    if parts[0] == "waportal":
        sub = parts[1] if len(parts) > 1 else ""
        if sub in WAPORTAL_TOP:
            return "waportal.top"
        return "waportal.admin" if sub in WAPORTAL_ADMIN else "waportal.platform"
    if len(parts) > 1 and parts[1] == "admin":
        return f"{parts[0]}.admin"
    return parts[0]


def rank(unit: str) -> float:
    if unit.endswith(".admin") and unit != APP_ADMIN_ABOVE:
        # An app's admin sits just above its app and above the shared admin, below the next app.
        return max(rank(unit.removesuffix(".admin")), rank(APP_ADMIN_ABOVE)) + 0.5
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return float(index)
    raise KeyError(unit)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(found for path in project_files() for found in imports_of(path))


def unit_edges(imports) -> dict[tuple[str, str], list[Import]]:
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for found in imports:
        source, target = unit_of(module_name(ROOT / found.path)), unit_of(found.target)
        if source != target:
            edges[source, target].append(found)
    return edges


def _where(found: Import) -> str:
    return f"{found.path}:{found.lineno} imports {found.target}"


# --- the tests -------------------------------------------------------------------------------------------------


def test_the_source_is_found_and_every_package_has_a_layer():
    assert len(project_files()) > 100 and {"accounts", "messaging", "providers", "waportal"} <= top_packages()
    units = {unit_of(module_name(path)) for path in project_files()}
    unplaced = []
    for unit in sorted(units):
        try:
            rank(unit)
        except KeyError:
            unplaced.append(unit)
    assert not unplaced, f"Declare the layer of {unplaced} in LAYERS (tests/test_architecture.py)."


def test_imports_go_only_downward():
    upward = []
    seen_known = set()
    for (source, target), imports in sorted(unit_edges(all_imports()).items()):
        if rank(target) <= rank(source):
            continue
        for found in imports:
            key = (found.path, found.target)
            if key in KNOWN_UPWARD_IMPORTS:
                seen_known.add(key)
            else:
                upward.append(f"  {_where(found)}: {source} sits below {target}")
    assert not upward, (
        "Upward imports (the layering, lowest first, is LAYERS in tests/test_architecture.py):\n"
        + "\n".join(upward)
        + "\nMove the code down to the layer that needs it, or invert the dependency: the higher app registers "
        "a hook at AppConfig.ready (as templates_mgr does with accounts.hooks.templates_sync), or a "
        "command composing several apps lives in the highest of them."
    )
    stale = sorted(KNOWN_UPWARD_IMPORTS - seen_known)
    assert not stale, f"These known upward imports are gone: delete them from KNOWN_UPWARD_IMPORTS: {stale}"


def _cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_cycle_between_packages():
    imports = [found for found in all_imports() if (found.path, found.target) not in KNOWN_UPWARD_IMPORTS]
    edges = unit_edges(imports)
    cycles = _cycles(edges)
    described = []
    for group in cycles:
        links = [f"    {_where(imports_[0])}" for (source, target), imports_ in sorted(edges.items())
                 if source in group and target in group]
        described.append(f"  {' <-> '.join(group)}:\n" + "\n".join(links))
    assert not cycles, (
        "Import cycles between packages (known upward imports aside):\n" + "\n".join(described)
        + "\nOne of these imports goes the wrong way: move that code down, or let the higher package register "
        "into the lower one."
    )


def test_the_adapters_import_no_app_and_no_django_models():
    wrong = [
        _where(found) for found in all_imports()
        if unit_of(module_name(ROOT / found.path)) == "providers" and unit_of(found.target) != "providers"
    ]
    for path in project_files():
        if unit_of(module_name(path)) != "providers":
            continue
        for node in ast.walk(parsed(path)):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            wrong.extend(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names
                         if name.split(".")[0] == "django" and name.split(".")[1:2] in (["db"], ["apps"], ["contrib"]))
    assert not wrong, (
        "providers/ holds the adapters: no models and no app (the apps hand them what they need):\n  "
        + "\n  ".join(wrong)
    )


def _provider_choices(path: Path) -> list[tuple[int, str]]:
    """Where a file names a provider: its id as a string, Provider.ALDEAMO-style, or ``waba_id is (not) None``."""
    hits = []
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in PROVIDER_STRINGS:
            hits.append((node.lineno, f"the provider id {node.value!r}"))
        elif (isinstance(node, ast.Attribute) and node.attr in PROVIDER_ATTRIBUTES
              and isinstance(node.value, ast.Name | ast.Attribute)
              and (getattr(node.value, "id", None) or getattr(node.value, "attr", None)) == "Provider"):
            hits.append((node.lineno, f"Provider.{node.attr}"))
        elif isinstance(node, ast.Compare) and all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
            operands = [node.left, *node.comparators]
            names_waba = any((isinstance(o, ast.Name) and o.id == "waba_id")
                             or (isinstance(o, ast.Attribute) and o.attr == "waba_id") for o in operands)
            if names_waba and any(isinstance(o, ast.Constant) and o.value is None for o in operands):
                hits.append((node.lineno, "'waba_id is None' as a provider test"))
    return hits


def _outside_the_adapters(path: Path) -> bool:
    """The adapters and the simulator know the providers; so do the tools (bench, mutants), which build
    accounts of a given provider as tests do."""
    return rank(unit_of(module_name(path))) not in {rank("providers"), rank("sandbox"), rank("bench")}


def test_only_the_adapters_name_a_provider():
    found: dict[tuple[str, str], str] = {}
    for path in project_files():
        if not _outside_the_adapters(path):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, what in _provider_choices(path):
            key = (str(path.relative_to(ROOT)), lines[lineno - 1].strip())
            found.setdefault(key, (key[0], lineno, f"  {key[0]}:{lineno}: {what}: {key[1]}"))
    new = [where for key, (*_, where) in sorted(found.items(), key=lambda item: item[1][:2])
           if key not in KNOWN_PROVIDER_LITERALS]
    assert not new, (
        "A provider is chosen outside providers/:\n" + "\n".join(new)
        + "\nDo not compare provider names: ask providers.registry for the account's provider and its "
        "capabilities (free-form sends, balance, analytics, templates per WABA, manual inventory)."
    )
    stale = sorted(KNOWN_PROVIDER_LITERALS - set(found))
    assert not stale, f"These provider choices are gone: delete them from KNOWN_PROVIDER_LITERALS: {stale}"
