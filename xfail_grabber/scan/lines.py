"""Line numbers for libcst nodes, from the `ast` tree we parsed anyway.

libcst's PositionProvider regenerates the code of a whole module to count positions: on a
realistic repository that cost more than parsing. The ast tree (parsed first, as a guard)
already knows every line, so we pair the two trees: statements one to one (a libcst
`SimpleStatementLine` holds one ast statement per small statement), decorators and the few
expressions we report on (calls, lists, tuples) element by element.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

Lines = dict[int, int]  # id(libcst node) -> 1-based line


def pair_statements(nodes: Sequence[cst.CSTNode], trees: Sequence[ast.stmt], lines: Lines) -> None:
    index = 0
    for node in nodes:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                if index < len(trees):
                    _pair_small(small, trees[index], lines)
                index += 1
            continue
        if index >= len(trees):
            return
        tree = trees[index]
        index += 1
        lines[id(node)] = tree.lineno
        _pair_compound(node, tree, lines)


def _pair_small(small: cst.CSTNode, tree: ast.stmt, lines: Lines) -> None:
    lines[id(small)] = tree.lineno
    if isinstance(small, cst.Assign) and isinstance(tree, ast.Assign):
        pair_expression(small.value, tree.value, lines)
    elif isinstance(small, cst.AnnAssign) and isinstance(tree, ast.AnnAssign):
        if small.value is not None and tree.value is not None:
            pair_expression(small.value, tree.value, lines)
    elif isinstance(small, cst.AugAssign) and isinstance(tree, ast.AugAssign):
        pair_expression(small.value, tree.value, lines)
    elif isinstance(small, cst.Expr | cst.Return) and isinstance(tree, ast.Expr | ast.Return):
        if small.value is None or tree.value is None:
            return
        pair_expression(small.value, tree.value, lines)
    elif (
        isinstance(small, cst.Raise)
        and isinstance(tree, ast.Raise)
        and small.exc is not None
        and tree.exc is not None
    ):
        pair_expression(small.exc, tree.exc, lines)


def _pair_block(suite: cst.BaseSuite, trees: Sequence[ast.stmt], lines: Lines) -> None:
    if isinstance(suite, cst.SimpleStatementSuite):
        for small, tree in zip(suite.body, trees, strict=False):
            _pair_small(small, tree, lines)
    else:
        pair_statements(suite.body if isinstance(suite, cst.IndentedBlock) else [], trees, lines)


def _pair_compound(node: cst.CSTNode, tree: ast.stmt, lines: Lines) -> None:
    if isinstance(node, cst.FunctionDef | cst.ClassDef) and isinstance(
        tree, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ):
        lines[id(node.name)] = tree.lineno
        for decorator, expr in zip(node.decorators, tree.decorator_list, strict=False):
            pair_expression(decorator.decorator, expr, lines)
        _pair_block(node.body, tree.body, lines)
    elif isinstance(node, cst.If) and isinstance(tree, ast.If):
        _pair_block(node.body, tree.body, lines)
        if isinstance(node.orelse, cst.If) and tree.orelse:
            pair_statements([node.orelse], tree.orelse, lines)
        elif isinstance(node.orelse, cst.Else):
            _pair_block(node.orelse.body, tree.orelse, lines)
    elif isinstance(node, cst.For | cst.While) and isinstance(
        tree, ast.For | ast.AsyncFor | ast.While
    ):
        _pair_block(node.body, tree.body, lines)
        if node.orelse is not None:
            _pair_block(node.orelse.body, tree.orelse, lines)
    elif isinstance(node, cst.With) and isinstance(tree, ast.With | ast.AsyncWith):
        _pair_block(node.body, tree.body, lines)
    elif isinstance(node, cst.Match) and isinstance(tree, ast.Match):
        for case, tree_case in zip(node.cases, tree.cases, strict=False):
            _pair_block(case.body, tree_case.body, lines)
    elif isinstance(node, cst.Try | cst.TryStar) and isinstance(tree, ast.Try | ast.TryStar):
        _pair_block(node.body, tree.body, lines)
        handlers: Sequence[cst.ExceptHandler | cst.ExceptStarHandler] = node.handlers
        for handler, tree_handler in zip(handlers, tree.handlers, strict=False):
            _pair_block(handler.body, tree_handler.body, lines)
        if node.orelse is not None:
            _pair_block(node.orelse.body, tree.orelse, lines)
        if node.finalbody is not None:
            _pair_block(node.finalbody.body, tree.finalbody, lines)


def pair_expression(node: cst.BaseExpression, tree: ast.expr, lines: Lines) -> None:
    """Lines of an expression and of the calls, lists and tuples inside it."""
    lines[id(node)] = tree.lineno
    if isinstance(node, cst.Call) and isinstance(tree, ast.Call):
        positional = [a for a in node.args if a.keyword is None and a.star != "**"]
        keywords = [a for a in node.args if a.keyword is not None or a.star == "**"]
        for arg, expr in zip(positional, tree.args, strict=False):
            value = expr.value if isinstance(expr, ast.Starred) and arg.star else expr
            pair_expression(arg.value, value, lines)
        for arg, keyword in zip(keywords, tree.keywords, strict=False):
            pair_expression(arg.value, keyword.value, lines)
    elif isinstance(node, cst.ListComp | cst.GeneratorExp | cst.SetComp) and isinstance(
        tree, ast.ListComp | ast.GeneratorExp | ast.SetComp
    ):
        pair_expression(node.elt, tree.elt, lines)
    elif isinstance(node, cst.List | cst.Tuple) and isinstance(tree, ast.List | ast.Tuple):
        for element, expr in zip(node.elements, tree.elts, strict=False):
            value = expr.value if isinstance(expr, ast.Starred) else expr
            pair_expression(element.value, value, lines)


def pair_defs(nodes: Sequence[cst.CSTNode], trees: Sequence[ast.stmt], lines: Lines) -> None:
    """Lines of `def` and `class` names only: what a test's own line needs, at a fraction of
    `pair_statements`' cost (no expressions, no simple statements)."""
    index = 0
    for node in nodes:
        if isinstance(node, cst.SimpleStatementLine):
            index += len(node.body)
            continue
        if index >= len(trees):
            return
        tree = trees[index]
        index += 1
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            if isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                lines[id(node.name)] = tree.lineno
                if isinstance(node, cst.ClassDef):
                    pair_defs(_statements(node.body), tree.body, lines)
            continue
        for suite, tree_body in _blocks(node, tree):
            pair_defs(_statements(suite), tree_body, lines)


def _statements(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else []


def _blocks(node: cst.CSTNode, tree: ast.stmt) -> list[tuple[cst.BaseSuite, Sequence[ast.stmt]]]:
    if isinstance(node, cst.If) and isinstance(tree, ast.If):
        blocks: list[tuple[cst.BaseSuite, Sequence[ast.stmt]]] = [(node.body, tree.body)]
        if isinstance(node.orelse, cst.If):
            blocks += [(cst.IndentedBlock(body=[node.orelse]), tree.orelse)]
        elif isinstance(node.orelse, cst.Else):
            blocks += [(node.orelse.body, tree.orelse)]
        return blocks
    if isinstance(node, cst.Try) and isinstance(tree, ast.Try):
        blocks = [(node.body, tree.body)]
        blocks += [(h.body, t.body) for h, t in zip(node.handlers, tree.handlers, strict=False)]
        if node.orelse is not None:
            blocks.append((node.orelse.body, tree.orelse))
        if node.finalbody is not None:
            blocks.append((node.finalbody.body, tree.finalbody))
        return blocks
    if isinstance(node, cst.With | cst.For | cst.While) and isinstance(
        tree, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor | ast.While
    ):
        return [(node.body, tree.body)]
    return []
