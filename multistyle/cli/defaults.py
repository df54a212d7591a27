"""Defaults for the help pages, read from the source of the modules that define them, without importing those.

The config dataclasses live beside the models (multistyle.image.gatys, ...), whose imports (torch, torchvision)
take seconds; `multistyle --help` and a usage error must not wait for them. So a help page names a config class
as "module:Class" and this module reads the field's default from the class body in the module's source:
literals, tuples, dicts, names of module-level constants, f-strings over those. A module without source (a
sourceless install) is imported instead, which is slower but gives the same values; tests/test_cli_usage.py checks
that both ways agree for every class the CLI uses.
"""
import ast
import importlib
import importlib.util
import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def _source(module: str) -> list[str] | None:
    spec = importlib.util.find_spec(module)
    source = spec.loader.get_source(module) if spec is not None and spec.loader is not None else None
    return source.splitlines() if source is not None else None


@lru_cache(maxsize=None)
def _block(module: str, name: str) -> ast.Module | None:
    """The top-level statement that defines `name` (class NAME or NAME = ...), parsed alone: a whole module takes
    ten times longer to parse. None when the module has no source."""
    lines = _source(module)
    if lines is None:
        return None
    start = re.compile(rf"(class\s+{name}\b|{name}\s*(:[^=]*)?=)")
    for i, line in enumerate(lines):
        if start.match(line):
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#)]}"):
                end += 1
            return ast.parse("\n".join(lines[i:end]))
    raise LookupError(f"{module} defines no top-level {name}")


def _assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    found = {}
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    return found


def _evaluate(node: ast.expr, module: str) -> Any:
    """A constant expression: literals, containers, module-level names, f-strings, unary minus, + and *."""
    if isinstance(node, ast.Name):
        return constant(module, node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(_evaluate(part, module) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        value = _evaluate(node.value, module)
        value = {ord("r"): repr, ord("s"): str, ord("a"): ascii}.get(node.conversion, lambda v: v)(value)
        return format(value, _evaluate(node.format_spec, module) if node.format_spec is not None else "")
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_evaluate(item, module) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_evaluate(k, module): _evaluate(v, module) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _evaluate(node.left, module), _evaluate(node.right, module)
        return left + right if isinstance(node.op, ast.Add) else left * right
    return ast.literal_eval(node)  # constants and -constants; anything else raises ValueError


def _imported_from(module: str, name: str) -> str | None:
    """The module a top-level `from M import ..., name, ...` in `module`'s source takes `name` from."""
    text = "\n".join(_source(module) or [])
    for found in re.finditer(r"^from\s+([\w.]+)\s+import\s+(\([^)]*\)|[^\n]*)", text, re.MULTILINE):
        names = [part.split(" as ")[-1].strip() for part in found.group(2).strip("()").split(",")]
        if name in names:
            return found.group(1)
    return None


def constant(module: str, name: str) -> Any:
    """The value of a module-level constant, e.g. constant("multistyle.core.optimize", "DEFAULT_LR"), or of one the
    module imports from another by name."""
    try:
        block = _block(module, name)
    except LookupError:
        source = _imported_from(module, name)
        if source is None:
            raise
        return constant(source, name)
    if block is None:
        return getattr(importlib.import_module(module), name)
    node = _assignments(block.body).get(name)
    if node is None:
        raise LookupError(f"{module} assigns no module-level {name}")
    return _evaluate(node, module)


def field_default(ref: str, name: str) -> Any:
    """The default of dataclass field `name` of the class `ref` ("package.module:Class"), following base classes
    defined in the same module."""
    module, cls_name = ref.split(":")
    block = _block(module, cls_name)
    if block is None:
        from multistyle.core.config import default_of

        return default_of(getattr(importlib.import_module(module), cls_name), name)
    cls = block.body[0]
    while True:
        node = _assignments(cls.body).get(name)
        if node is not None:
            return _evaluate(node, module)
        if not (len(cls.bases) == 1 and isinstance(cls.bases[0], ast.Name)):
            raise LookupError(f"{ref} has no field {name} with a default in its source")
        cls = _block(module, cls.bases[0].id).body[0]
