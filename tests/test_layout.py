"""docs/DESIGN.md's table of racnn/ stays true: every module is listed in
its layer, imports point only to the same or an earlier layer, and there is
no import cycle.  Read from the source with ast (nothing is imported)."""
import ast
import os
import re

from racnn.paths import REPO

PKG = os.path.join(REPO, "racnn")


def modules():
    """{'racnn.resize.compiled': path, 'racnn': .../__init__.py, ...}"""
    out = {}
    for d, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), REPO)[:-3].replace(os.sep, ".")
                out[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = \
                    os.path.join(d, f)
    return out


def design_layers():
    """{module or package name: layer} from the table in docs/DESIGN.md."""
    text = open(os.path.join(REPO, "docs", "DESIGN.md"), encoding="utf-8").read()
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


def imports(mods):
    """{module: {imported own module}} over module- and function-level imports."""
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
            for t in targets:
                while t not in mods and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t in mods and t != name and t.startswith("racnn") and \
                        not name.startswith(t + "."):       # a package's own __init__
                    found.add(t)
        edges[name] = found
    return edges


def test_every_module_is_in_the_design_table():
    layers = design_layers()
    missing = sorted(m for m in modules() if m != "racnn" and m not in layers)
    assert not missing, "modules missing from docs/DESIGN.md's table: %s" % missing
    stale = sorted(m for m in layers if m not in modules())
    assert not stale, "docs/DESIGN.md lists modules that do not exist: %s" % stale


def test_imports_point_to_the_same_or_an_earlier_layer():
    mods, layers = modules(), design_layers()
    upward = []
    for src, targets in imports(mods).items():
        if src == "racnn":
            continue
        for t in targets:
            if t != "racnn" and layer_of(t, layers) > layer_of(src, layers):
                upward.append("%s (layer %d) imports %s (layer %d)" % (
                    src, layer_of(src, layers), t, layer_of(t, layers)))
    assert not upward, "\n".join(upward)


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


def test_the_check_sees_an_upward_import(tmp_path):
    """The layer rule is not vacuous: an upward edge (report -> base) breaks it."""
    layers = design_layers()
    assert layer_of("racnn.report.tables", layers) > layer_of("racnn.protoio", layers)
    assert layer_of("racnn.resize.compiled", layers) == layers["racnn.resize"]
    assert "racnn.db.lmdbio" in imports(modules())["racnn.eval.evaluate"]
