"""Step conditions (``if:``): a small expression language, parsed by recursive descent.

Grammar, loosest binding first (as in GitHub Actions)::

    or    := and ("||" and)*
    and   := eq ("&&" eq)*
    eq    := rel (("==" | "!=") rel)*
    rel   := unary (("<" | "<=" | ">" | ">=") unary)*
    unary := "!" unary | atom
    atom  := "(" or ")" | ${reference} | 'text' | "text" | number | true | false | null
           | success() | failure() | always()

``${...}`` is a value here, not text pasted into the expression. A condition that calls none
of the status functions means ``success() && (condition)``, so a step still waits for its
needs to succeed. Comparing different types converts both sides to numbers (``'3' == 3``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .expressions import Reference, scan

FUNCTIONS = ("success", "failure", "always")
_MAX_DEPTH = 50
_MAX_TOKENS = 400  # keeps the (recursive) evaluation of long chains within the stack
Value = str | int | float | bool | None


class ConditionError(ValueError):
    """A malformed condition; the message points at the offending part."""


@dataclass(frozen=True)
class Token:
    kind: str  # "op", "ref", "lit", "name", "end"
    text: str
    start: int
    end: int
    value: object = None


_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\))
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<dq>"(?:[^"\\]|\\.)*")
      | (?P<sq>'(?:[^']|'')*')
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; raises ``ConditionError`` at the first character it can't read."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            end = text.find("}", i)
            if end < 0:
                raise ConditionError(f"unterminated '${{' at position {i + 1}: close it with '}}'")
            try:
                (ref,) = scan(text[i : end + 1])
            except ValueError as exc:  # ExpressionSyntaxError, or not exactly one reference
                raise ConditionError(str(exc)) from None
            tokens.append(Token("ref", text[i : end + 1], i, end + 1, ref))
            i = end + 1
            continue
        match = _TOKEN.match(text, i)
        if match is None:
            raise ConditionError(
                f"unexpected {text[i]!r} at position {i + 1}; write references as ${{...}} "
                "and text in quotes"
            )
        group, word = match.lastgroup, match.group()
        if group == "op":
            tokens.append(Token("op", word, i, match.end()))
        elif group == "num":
            tokens.append(Token("lit", word, i, match.end(), _number(word)))
        elif group == "dq":
            try:
                tokens.append(Token("lit", word, i, match.end(), json.loads(word)))
            except ValueError:
                raise ConditionError(
                    f'invalid text {word}: inside double quotes use JSON escapes (\\n, \\")'
                ) from None
        elif group == "sq":
            tokens.append(Token("lit", word, i, match.end(), word[1:-1].replace("''", "'")))
        elif group == "name":
            literals: dict[str, object] = {"true": True, "false": False, "null": None}
            if word in literals:
                tokens.append(Token("lit", word, i, match.end(), literals[word]))
            else:
                tokens.append(Token("name", word, i, match.end()))
        i = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


@dataclass(frozen=True)
class Lit:
    value: Value


@dataclass(frozen=True)
class Ref:
    reference: Reference


@dataclass(frozen=True)
class Call:
    name: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Op:
    operator: str
    left: Node
    right: Node


Node = Lit | Ref | Call | Not | Op


def parse(text: str) -> Node:
    """The syntax tree of ``text``, with the implicit ``success() &&`` added."""
    tokens = tokenize(text)
    if len(tokens) > _MAX_TOKENS:
        raise ConditionError(f"the condition is too long (more than {_MAX_TOKENS} tokens)")
    tree = _Parser(tokens).parse()
    return tree if _calls_status(tree) else Op("&&", Call("success"), tree)


def condition_references(text: str) -> list[Reference]:
    """Every ``${...}`` in the condition (raises ``ConditionError`` when malformed)."""
    parse(text)  # validate the whole expression, not just the references
    return [t.value for t in tokenize(text) if isinstance(t.value, Reference)]


def substitute(text: str, resolve: Callable[[Reference], object], keep: object) -> str:
    """``text`` with each resolved reference replaced by the literal of its value."""
    tokens = tokenize(text)
    out: list[str] = []
    cursor = 0
    for token in tokens:
        if isinstance(token.value, Reference):
            value = resolve(token.value)
            if value is not keep:
                out.extend((text[cursor : token.start], literal(value)))
                cursor = token.end
    out.append(text[cursor:])
    return "".join(out)


def literal(value: object) -> str:
    """``value`` written as a literal of this language."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(json.dumps(value, ensure_ascii=False, default=str), ensure_ascii=False)


def evaluate(
    tree: Node,
    resolve: Callable[[Reference], Value],
    status: Callable[[str], bool],
) -> bool:
    """Evaluate a parsed condition; ``status(fn)`` answers ``success()``/``failure()``/…"""
    return truthy(_eval(tree, resolve, status))


def truthy(value: Value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ConditionError("the condition is empty")
        tree = self.binary(0)
        token = self.peek()
        if token.kind != "end":
            raise ConditionError(f"unexpected '{token.text}' at position {token.start + 1}")
        return tree

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._LEVELS[level]:
            operator = self.take().text
            left = Op(operator, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "!":
            self.take()
            return Not(self.nested(self.unary))
        return self.atom()

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ConditionError(f"the condition nests more than {_MAX_DEPTH} levels deep")
        try:
            return parse()
        finally:
            self.depth -= 1

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "lit":
            return Lit(token.value)  # type: ignore[arg-type]  # the lexer only makes Values
        if isinstance(token.value, Reference):
            return Ref(token.value)
        if token.kind == "op" and token.text == "(":
            inner = self.nested(lambda: self.binary(0))
            self.expect(")", "to close '('")
            return inner
        if token.kind == "name":
            if token.text not in FUNCTIONS:
                raise ConditionError(
                    f"unknown name '{token.text}' at position {token.start + 1}; functions are "
                    "success(), failure() and always(), text goes in quotes and references "
                    "are written ${...}"
                )
            self.expect("(", f"after '{token.text}'")
            self.expect(")", f"— {token.text}() takes no arguments")
            return Call(token.text)
        if token.kind == "end":
            raise ConditionError("the condition ends too early")
        raise ConditionError(f"unexpected '{token.text}' at position {token.start + 1}")

    def expect(self, text: str, why: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != text:
            found = f"'{token.text}'" if token.kind != "end" else "the end"
            raise ConditionError(f"expected '{text}' {why}, found {found}")


def _calls_status(tree: Node) -> bool:
    if isinstance(tree, Call):
        return True
    if isinstance(tree, Not):
        return _calls_status(tree.operand)
    if isinstance(tree, Op):
        return _calls_status(tree.left) or _calls_status(tree.right)
    return False


def _eval(
    tree: Node, resolve: Callable[[Reference], Value], status: Callable[[str], bool]
) -> Value:
    if isinstance(tree, Lit):
        return tree.value
    if isinstance(tree, Ref):
        return resolve(tree.reference)
    if isinstance(tree, Call):
        return status(tree.name)
    if isinstance(tree, Not):
        return not truthy(_eval(tree.operand, resolve, status))
    left = _eval(tree.left, resolve, status)
    if tree.operator == "&&":
        return truthy(left) and truthy(_eval(tree.right, resolve, status))
    if tree.operator == "||":
        return truthy(left) or truthy(_eval(tree.right, resolve, status))
    return _compare(tree.operator, left, _eval(tree.right, resolve, status))


def _compare(operator: str, left: Value, right: Value) -> bool:
    a: Value = left
    b: Value = right
    if type(a) is not type(b) or a is None:
        a, b = _to_number(a), _to_number(b)
    if operator == "==":
        return a == b
    if operator == "!=":
        return a != b
    if isinstance(a, str) and isinstance(b, str):
        return _order(operator, a, b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return _order(operator, a, b)
    return False


def _order(operator: str, a: Any, b: Any) -> bool:
    # Both are text or both are numbers (the caller checks), so the comparison is defined.
    if operator == "<":
        return bool(a < b)
    if operator == "<=":
        return bool(a <= b)
    if operator == ">":
        return bool(a > b)
    return bool(a >= b)


def _to_number(value: Value) -> float:
    if value is None:
        return 0.0
    try:
        if isinstance(value, bool | int | float):
            return float(value)
        return float(value.strip() or 0)
    except (ValueError, OverflowError):
        return math.nan


def _number(word: str) -> int | float:
    try:
        return int(word)
    except ValueError:
        return float(word)
