"""The shape of the code, checked: imports point one way, rooms stay small, tests assert.

docs/ARCHITECTURE.md draws the same layers.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
TESTS = ROOT / "tests"

# The layers, lowest first. A module may import from its own layer or a lower one, never from
# a higher one. A room is a package or a module; the longest matching name decides, so a
# low-level module of a higher package (the upload store of portal.documents) can sit low.
LAYERS = [
    (
        "foundation",
        [
            "portal.extensions",
            "portal.database",
            "portal.config",
            "portal.money",
            "portal.formatting",
            "portal.validators",
            "portal.clock",
            "portal.calendar_ru",
            "portal.collation",
            "portal.transactions",
            "portal.errors",
            "portal.outages",
            "portal.request_guard",
            "portal.mail",
            "portal.logging_setup",
            "portal.form_fields",
            "portal.partials",
            "portal.caching",
            "portal.audit",
            "portal.files",
            "portal.reports",
            "portal.api.problems",  # the problem+json format every error answer uses
            "portal.documents.storage",  # the upload check and store of every file
            "portal.documents.subjects",  # the registry domains add their document kinds to
            "portal.api.webhooks",  # events to partners' endpoints, sent after commit like mail
            "portal.api.order_models",  # the webhook and idempotency tables
            # The one job queue and its wiring: every domain (and mail) adds its tasks to it.
            "portal.jobs.queue",
            "portal.jobs.kinds",
            "portal.jobs.limits",
            "portal.jobs.models",
            "portal.jobs.tasks",
            "portal.jobs.background",  # imports and documents as jobs, with their status row
        ],
    ),
    (
        "people",  # who signs in, for which organisation, with which powers; what they see
        [
            "portal.accounts",
            "portal.organisations",
            "portal.security",
            "portal.navigation",
            "portal.notifications",
            "portal.privacy.consents",  # the consent the sign-in gate asks for
            "portal.privacy.models",
            "portal.privacy.initial_texts",
        ],
    ),
    ("inventory", ["portal.inventory"]),  # warehouses, stock, reservation, delivery dates
    ("billing", ["portal.billing"]),  # the ledger, VAT, payments, primary documents
    ("catalog", ["portal.catalog"]),  # items, search, pricing
    (
        "domains",  # what customers do, using the rooms below
        [
            "portal.orders",
            "portal.pharmacy",  # series and recalls of medicines, on top of orders
            "portal.metering",
            "portal.documents",
            "portal.tickets",
            "portal.onboarding",
            "portal.privacy",
        ],
    ),
    (
        "staff and API",  # views over several domains
        ["portal.backoffice", "portal.dashboard", "portal.api", "portal.audit_text"],
    ),
    (
        "assembly",  # builds the application, the commands and the demo from everything
        ["portal", "portal.system", "portal.operations", "portal.demo"],
    ),
]

# Imports that still go the wrong way, each with the reason it cannot go today. An entry is
# (importing module, imported module or package). Remove an entry when its import is gone: the
# test fails on entries that no longer match anything, so the list only shrinks.
ALLOWED = {
    # The file store's orphan check lists every column that names a stored file.
    ("portal.files.references", "portal.documents.models"): "document rows name their files",
    # Withdrawing a consent, or signing out from the consent page, reaches the rights pages.
    ("portal.privacy.consents", "portal.privacy.requests"): "a withdrawal opens a request",
    ("portal.accounts.views", "portal.privacy.views"): "sign-out from the consent page",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


def imports_of(path: Path):
    """(line, imported name) for every import in the module, in functions too."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from portal.documents import storage` imports the module, not the package
                submodule = f"{base}.{alias.name}"
                yield node.lineno, submodule if _is_module(submodule) else base


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer_of(name: str):
    best = None
    for index, (_title, rooms) in enumerate(LAYERS):
        for room in rooms:
            if (name == room or name.startswith(room + ".")) and (
                best is None or len(room) > len(best[1])
            ):
                best = (index, room)
    return best[0] if best else None


def portal_modules():
    return sorted(PORTAL.rglob("*.py"))


def wrong_way_imports():
    found = []
    for path in portal_modules():
        importer = module_name(path)
        own = layer_of(importer)
        for line, imported in imports_of(path):
            if not imported.startswith("portal."):
                continue
            target = layer_of(imported)
            if target is not None and own is not None and target > own:
                found.append((importer, imported, line))
    return found


def _allowed(importer, imported):
    return any(
        importer == source and (imported == target or imported.startswith(target + "."))
        for source, target in ALLOWED
    )


def test_every_portal_module_has_a_layer():
    assert [module_name(p) for p in portal_modules() if layer_of(module_name(p)) is None] == []


def test_imports_point_down_the_layers():
    wrong = [
        f"{importer}:{line} imports {imported} ({LAYERS[layer_of(imported)][0]}, above "
        f"{LAYERS[layer_of(importer)][0]})"
        for importer, imported, line in wrong_way_imports()
        if not _allowed(importer, imported)
    ]
    assert wrong == []


def test_the_allow_list_only_names_imports_that_still_exist():
    used = {
        (source, target)
        for importer, imported, _line in wrong_way_imports()
        for source, target in ALLOWED
        if importer == source and (imported == target or imported.startswith(target + "."))
    }
    assert sorted(set(ALLOWED) - used) == []


def test_catalog_imports_nothing_from_orders():
    offenders = [
        f"{module_name(path)}:{line} {imported}"
        for path in sorted((PORTAL / "catalog").rglob("*.py"))
        for line, imported in imports_of(path)
        if imported == "portal.orders" or imported.startswith("portal.orders.")
    ]
    allowed = {f"{s}" for s, t in ALLOWED if s.startswith("portal.catalog") and "orders" in t}
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []


def test_the_checker_sees_a_wrong_import_inside_a_function(tmp_path):
    """The checker itself: a lazy import in a function counts like one at the top."""
    module = tmp_path / "portal" / "catalog" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from portal.orders import services\n", encoding="utf-8")
    parsed = list(imports_of_in(module, tmp_path))
    assert parsed == [(2, "portal.orders")]
    assert layer_of("portal.orders.services") > layer_of("portal.catalog.probe")


def imports_of_in(path: Path, root: Path):
    global ROOT
    saved, ROOT = ROOT, root
    try:
        yield from imports_of(path)
    finally:
        ROOT = saved


# --- room size ---------------------------------------------------------------------------------

MAX_LINES = 500
# Modules above the limit today; their owners are splitting them. Remove an entry once its
# module is under the limit (the test fails on an entry that no longer needs to be here).
OVERSIZED: set[str] = set()  # no module over the limit; keep it so


def _line_counts():
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in portal_modules()
    }


def test_no_module_is_over_500_lines():
    counts = _line_counts()
    over = sorted(f"{name} ({lines})" for name, lines in counts.items() if lines > MAX_LINES)
    assert [entry for entry in over if entry.split(" ")[0] not in OVERSIZED] == []


def test_the_oversized_list_names_only_modules_still_over_the_limit():
    counts = _line_counts()
    assert sorted(n for n in OVERSIZED if counts.get(n, 0) <= MAX_LINES) == []


# --- tests that assert -------------------------------------------------------------------------


def _asserts(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and _called_name(call) in RAISING:
                    return True
        if isinstance(node, ast.Call) and (
            _called_name(node) in ASSERTING_CALLS or _called_name(node).startswith("assert_")
        ):
            return True
        if isinstance(node, ast.Attribute) and node.attr in ASSERTING_CALLS:
            return True  # passed to a runner: contextvars.Context().run(case.call_and_validate)
    return False


RAISING = {"raises", "warns", "deprecated_call"}
# pytest.fail asserts by failing; expect(...) is Playwright's assertion; a helper named
# assert_* (assert_stays, assert_problem) holds the test's assertion.
ASSERTING_CALLS = {
    "fail",
    "expect",
    "call_and_validate",  # the API contract test: the response is checked against the schema
    "check_page",  # the browser layout checks (tests/e2e)
}


def _called_name(call: ast.Call) -> str:
    func = call.func
    while isinstance(func, ast.Call):
        func = func.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return getattr(func, "id", "")


def test_every_test_function_asserts_something_of_its_own():
    silent = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test_")
                and not _asserts(node)
            ):
                silent.append(f"{path.relative_to(ROOT)}::{node.name}")
    assert silent == []


@pytest.mark.parametrize(
    ("source", "asserts"),
    [
        ("def test_a():\n    client.get('/')\n", False),
        ("def test_a():\n    assert 1 == f()\n", True),
        ("def test_a():\n    with pytest.raises(ValueError):\n        f()\n", True),
    ],
)
def test_the_assertion_check_tells_a_silent_test(source, asserts):
    assert _asserts(ast.parse(source).body[0]) is asserts
