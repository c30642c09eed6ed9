"""docs/DESIGN.md's table of racnn/ stays true: every module is listed in
its layer, imports point only to the same or an earlier layer (and so do
``python3 -m racnn.X`` strings: starting a module as a process is a call
too), and there is no import cycle.  Read from the source with ast (nothing
is imported)."""
import ast
import os
import re
import shutil

from racnn.paths import REPO

#: a string naming one of the package's modules (``python3 -m racnn.eval``)
_MODULE_STRING = re.compile(r"^racnn(\.[a-z_]+)+$")


def modules(root=REPO):
    """{'racnn.resize.compiled': path, 'racnn': .../__init__.py, ...} under ``root``."""
    out = {}
    for d, _, files in os.walk(os.path.join(root, "racnn")):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), root)[:-3].replace(os.sep, ".")
                out[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = \
                    os.path.join(d, f)
    return out


def design_layers(root=REPO):
    """{module or package name: layer} from the table in docs/DESIGN.md."""
    text = open(os.path.join(root, "docs", "DESIGN.md"), encoding="utf-8").read()
    layers = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*(.+)\|\s*$", line)
        if not m:
            continue
        layer, package, body = int(m.group(1)), m.group(2).strip("` "), m.group(3)
        names = re.findall(r"`([A-Za-z_]\w*)`(?=[:,])", body)      # `module`: what it holds
        if package == "base":
            for n in names:
                layers.setdefault("racnn." + n, layer)
        elif package.endswith("/"):
            pkg = "racnn." + package.rstrip("/")
            layers[pkg] = layer
            for n in names:
                if "." not in n:
                    layers.setdefault(pkg + "." + n, layer)
        else:
            layers["racnn." + package] = layer
    return layers


def layer_of(module, layers):
    while module not in layers and "." in module:
        module = module.rsplit(".", 1)[0]
    return layers.get(module)


def _own(target, name, mods):
    """The module of ``mods`` that ``target`` names, or None (not ours, the
    importer itself, or its own package's __init__)."""
    while target not in mods and "." in target:
        target = target.rsplit(".", 1)[0]
    if target in mods and target != name and target.startswith("racnn") and \
            not name.startswith(target + "."):
        return target
    return None


def imports(mods):
    """{module: {own module it imports or starts as ``-m``}} over module- and
    function-level imports and module-name strings."""
    edges = {}
    for name, path in mods.items():
        is_pkg = path.endswith("__init__.py")
        base = name if is_pkg else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = base.split(".")
                    parts = parts[:len(parts) - (node.level - 1)] if node.level > 1 else parts
                    root = ".".join(parts + ([node.module] if node.module else []))
                else:
                    root = node.module or ""
                targets = [root + "." + a.name if root + "." + a.name in mods else root
                           for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    _MODULE_STRING.match(node.value):
                targets = [node.value]
            found.update(t for t in (_own(t, name, mods) for t in targets) if t)
        edges[name] = found
    return edges


def upward(mods, layers):
    """'A (layer a) imports B (layer b)' for every edge to a later layer."""
    out = []
    for src, targets in sorted(imports(mods).items()):
        if src == "racnn":
            continue
        for t in sorted(targets):
            if t != "racnn" and layer_of(t, layers) > layer_of(src, layers):
                out.append("%s (layer %d) imports %s (layer %d)" % (
                    src, layer_of(src, layers), t, layer_of(t, layers)))
    return out


def test_every_module_is_in_the_design_table():
    layers = design_layers()
    missing = sorted(m for m in modules() if m != "racnn" and m not in layers)
    assert not missing, "modules missing from docs/DESIGN.md's table: %s" % missing
    stale = sorted(m for m in layers if m not in modules())
    assert not stale, "docs/DESIGN.md lists modules that do not exist: %s" % stale


def test_imports_point_to_the_same_or_an_earlier_layer():
    problems = upward(modules(), design_layers())
    assert not problems, "\n".join(problems)


def test_no_import_cycle():
    edges = imports(modules())
    state, cycles = {}, []

    def visit(m, path):
        state[m] = "open"
        for t in sorted(edges.get(m, ())):
            if state.get(t) == "open":
                cycles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"
    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def test_the_check_refuses_a_real_upward_import_and_an_upward_subprocess(tmp_path):
    """The rule is not vacuous: a copy of the package with one module that
    imports a higher layer, and one that starts a higher layer as
    ``python3 -m``, is refused, naming both; the untouched copy passes."""
    shutil.copytree(os.path.join(REPO, "racnn"), str(tmp_path / "racnn"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(REPO, "docs"), str(tmp_path / "docs"))
    root = str(tmp_path)
    assert upward(modules(root), design_layers(root)) == []
    (tmp_path / "racnn" / "train" / "driver.py").write_text(
        (tmp_path / "racnn" / "train" / "driver.py").read_text()
        + "\n\ndef _report(run_dir):\n    from ..report.write import write_report\n"
        "    return write_report([run_dir], run_dir)\n")
    (tmp_path / "racnn" / "rundir" / "results.py").write_text(
        (tmp_path / "racnn" / "rundir" / "results.py").read_text()
        + "\n\nEVALUATE = [\"python3\", \"-m\", \"racnn.eval\"]\n")
    problems = upward(modules(root), design_layers(root))
    assert problems == ["racnn.rundir.results (layer 8) imports racnn.eval (layer 11)",
                        "racnn.train.driver (layer 10) imports racnn.report.write (layer 12)"]
