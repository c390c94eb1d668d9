"""calculator: arithmetic on numbers with + - * / // % ** and parentheses, without eval.

The expression is parsed with :mod:`ast` and walked; any node other than a number, a binary
operator of the list, a unary + or - is refused. Powers are bounded before they are computed
(exponent magnitude and estimated result size), and so is every intermediate integer, so
``9**9**9`` is refused in microseconds instead of eating the CPU limit.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

from ._protocol import ToolError, run_tool

__all__ = ["evaluate"]

MAX_EXPRESSION_CHARS = 1000
MAX_EXPONENT = 10_000
MAX_RESULT_BITS = 4096
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
Number = int | float


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise ToolError(f"intermediate result larger than {MAX_RESULT_BITS} bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("result is not a finite number")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"exponent {exponent} exceeds {MAX_EXPONENT}")
    if abs(base) > 1 and exponent > 0:
        bits = exponent * math.log2(abs(base))
        if bits > MAX_RESULT_BITS:
            raise ToolError(f"power result would exceed {MAX_RESULT_BITS} bits")
    if base == 0 and exponent < 0:
        raise ToolError("zero cannot be raised to a negative power")
    result = base**exponent
    if isinstance(result, complex):
        raise ToolError("result is a complex number")
    return result


def _walk(node: ast.AST, depth: int = 0) -> Number:
    if depth > 100:
        raise ToolError("expression nested too deeply")
    if isinstance(node, ast.Expression):
        return _walk(node.body, depth + 1)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _check_size(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand, depth + 1))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left, depth + 1), _walk(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return _check_size(_power(left, right))
        try:
            return _check_size(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError as exc:
            raise ToolError("division by zero") from exc
        except OverflowError as exc:
            raise ToolError("result too large") from exc
    raise ToolError(f"not allowed in an expression: {type(node).__name__}")


def evaluate(expression: str) -> dict[str, Any]:
    """Evaluate ``expression``; the exact value is also given as text (JSON floats are 64-bit)."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("expression is empty")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ToolError(f"not an arithmetic expression: {exc.msg if isinstance(exc, SyntaxError) else exc}") from exc
    try:
        value = _walk(tree)
    except OverflowError as exc:
        raise ToolError("result too large") from exc
    shown: Number | None = value
    if isinstance(value, int) and abs(value) >= 2**63:
        shown = float(value) if value.bit_length() <= 1023 else None  # beyond a double: text only
    return {"expression": expression.strip(), "result": shown, "result_text": repr(value)}


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    return evaluate(args.get("expression"))


if __name__ == "__main__":
    run_tool(_handle)
