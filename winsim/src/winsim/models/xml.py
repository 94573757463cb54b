"""Model of ``community.windows.win_xml`` (community.windows 3.3.0).

The file is loaded into a DOM (``xml.dom.minidom``, standing in for
``System.Xml.XmlDocument``), nodes are selected with an XPath 1.0 evaluator
(:class:`XPath`: location paths with all common axes and abbreviations,
predicates, ``and``/``or``/``not()``, comparisons, unions and the usual
string/node-set functions; unprefixed names match elements in no namespace,
as ``SelectNodes`` does), changed in memory exactly like the module's
PowerShell, and saved the way ``XmlDocument.Save`` writes (UTF-8 with BOM,
two-space indentation, CRLF, ``<empty />`` elements, the original XML
declaration and comments kept).  No third-party XML library is needed.

Fidelity notes (quirks of the module source, reproduced on purpose):

* ``type: element, state: absent`` reports ``changed`` only outside check
  mode (the module sets it inside ``if (-not $check_mode)``).
* ``type: element, state: present`` with several matched nodes reports the
  change of the *last* node only (``$changed`` is reset per node).
* ``msg`` is ``"not changed"`` plus ``"xml added "`` per added fragment, and
  ``" check mode"`` in check mode; after a save it is ``"<type> changed"`` or
  ``"<type> removed"``.
* Element comparison is order-sensitive for attributes, like
  ``Compare-XmlDoc``.
* ``backup_file`` is ``<path>.<pid>.<yyyyMMdd-HHmmss>.bak``.
"""

from __future__ import annotations

import re
import typing as t
import xml.dom.minidom as minidom
from xml.dom import Node
from xml.parsers.expat import ExpatError

from .. import state as st
from . import _winfs as fs
from ._base import ModuleContext, model

_UPSTREAM = "community.windows 3.3.0"


class XPathError(Exception):
    """``System.Xml.XPath.XPathException``."""


# -- XPath 1.0 -----------------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<literal>"[^"]*"|'[^']*')
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<op>//|::|!=|<=|>=|\.\.|[/\[\]()@,|=<>*.+\-$])
  | (?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
""", re.VERBOSE)

_AXES = {"child", "descendant", "descendant-or-self", "parent", "self", "attribute", "ancestor",
         "ancestor-or-self", "following-sibling", "preceding-sibling", "following", "preceding"}


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise XPathError(f"'{expr}' has an invalid token.")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(kind)))
    return out


def string_value(node: t.Any) -> str:
    if isinstance(node, str):
        return node
    if node.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE, Node.COMMENT_NODE):
        return node.data
    if node.nodeType == Node.ATTRIBUTE_NODE:
        return node.value
    if node.nodeType == Node.PROCESSING_INSTRUCTION_NODE:
        return node.data
    return "".join(string_value(c) for c in node.childNodes if c.nodeType != Node.COMMENT_NODE
                   and c.nodeType != Node.PROCESSING_INSTRUCTION_NODE)


def _to_number(value: t.Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        value = string_value(value[0]) if value else ""
    try:
        return float(str(value).strip())
    except ValueError:
        return float("nan")


def _to_string(value: t.Any) -> str:
    if isinstance(value, list):
        return string_value(value[0]) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _to_bool(value: t.Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, float):
        return value != 0 and value == value
    if isinstance(value, str):
        return value != ""
    return bool(value)


class XPath:
    """A compiled XPath 1.0 expression over a minidom document."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = _tokens(expr)
        self.i = 0
        if not self.toks:
            raise XPathError("Expression must evaluate to a node-set.")
        self.tree = self._or()
        if self.i != len(self.toks):
            raise XPathError(f"'{expr}' has an invalid token.")

    # parsing --------------------------------------------------------------
    def _peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def _eat(self, value: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (value is not None and tok[1] != value):
            raise XPathError(f"'{self.expr}' has an invalid token.")
        self.i += 1
        return tok

    def _is(self, *values: str) -> bool:
        tok = self._peek()
        return tok is not None and tok[1] in values and tok[0] in ("op", "name")

    def _or(self) -> t.Any:
        node = self._and()
        while self._is("or"):
            self._eat()
            node = ("or", node, self._and())
        return node

    def _and(self) -> t.Any:
        node = self._eq()
        while self._is("and"):
            self._eat()
            node = ("and", node, self._eq())
        return node

    def _eq(self) -> t.Any:
        node = self._rel()
        while self._is("=", "!="):
            op = self._eat()[1]
            node = ("cmp", op, node, self._rel())
        return node

    def _rel(self) -> t.Any:
        node = self._union()
        while self._is("<", ">", "<=", ">="):
            op = self._eat()[1]
            node = ("cmp", op, node, self._union())
        return node

    def _union(self) -> t.Any:
        node = self._path()
        while self._is("|"):
            self._eat()
            node = ("union", node, self._path())
        return node

    def _path(self) -> t.Any:
        tok = self._peek()
        if tok is None:
            raise XPathError(f"'{self.expr}' has an invalid token.")
        if tok[0] in ("literal", "number") or (tok[1] == "(") or (
                tok[0] == "name" and self._peek(1) is not None and self._peek(1)[1] == "("  # type: ignore[index]
                and tok[1] not in ("node", "text", "comment", "processing-instruction")):
            node = self._primary()
            preds = []
            while self._is("["):
                preds.append(self._predicate())
            if preds:
                node = ("filter", node, preds)
            if self._is("/", "//"):
                sep = self._eat()[1]
                steps = ([("descendant-or-self", "node()", [])] if sep == "//" else []) + self._relative()
                node = ("path", node, steps)
            return node
        if tok[1] == "/":
            self._eat()
            nxt = self._peek()
            if nxt is None or nxt[1] in ("|", ")", "]", "=", "!=", "and", "or", ","):
                return ("root", [])
            return ("root", self._relative())
        if tok[1] == "//":
            self._eat()
            return ("root", [("descendant-or-self", "node()", []), *self._relative()])
        return ("rel", self._relative())

    def _relative(self) -> list[tuple[str, str, list[t.Any]]]:
        steps = [self._step()]
        while self._is("/", "//"):
            if self._eat()[1] == "//":
                steps.append(("descendant-or-self", "node()", []))
            steps.append(self._step())
        return steps

    def _step(self) -> tuple[str, str, list[t.Any]]:
        if self._is("."):
            self._eat()
            return ("self", "node()", [])
        if self._is(".."):
            self._eat()
            return ("parent", "node()", [])
        axis = "child"
        if self._is("@"):
            self._eat()
            axis = "attribute"
        elif self._peek() and self._peek()[0] == "name" and self._peek(1) and self._peek(1)[1] == "::":  # type: ignore[index]
            axis = self._eat()[1]
            self._eat("::")
            if axis not in _AXES:
                raise XPathError(f"'{self.expr}' has an invalid token.")
        tok = self._eat()
        if tok[1] == "*":
            test = "*"
        elif tok[0] == "name":
            test = tok[1]
            if self._is("(") and test in ("node", "text", "comment", "processing-instruction"):
                self._eat("(")
                self._eat(")")
                test += "()"
        else:
            raise XPathError(f"'{self.expr}' has an invalid token.")
        preds = []
        while self._is("["):
            preds.append(self._predicate())
        return (axis, test, preds)

    def _predicate(self) -> t.Any:
        self._eat("[")
        expr = self._or()
        self._eat("]")
        return expr

    def _primary(self) -> t.Any:
        kind, value = self._eat()
        if kind == "literal":
            return ("lit", value[1:-1])
        if kind == "number":
            return ("num", float(value))
        if value == "(":
            expr = self._or()
            self._eat(")")
            return expr
        self._eat("(")
        args = []
        if not self._is(")"):
            args.append(self._or())
            while self._is(","):
                self._eat()
                args.append(self._or())
        self._eat(")")
        return ("fn", value, args)

    # evaluation -------------------------------------------------------------
    def select(self, doc: minidom.Document) -> list[t.Any]:
        self._order = _document_order(doc)
        value = self._eval(self.tree, doc, 1, 1)
        if not isinstance(value, list):
            raise XPathError("Expression must evaluate to a node-set.")
        return value

    def _sorted(self, nodes: list[t.Any]) -> list[t.Any]:
        seen, out = set(), []
        for n in nodes:
            if id(n) not in seen:
                seen.add(id(n))
                out.append(n)
        return sorted(out, key=lambda n: self._order.get(id(n), 0))

    def _eval(self, tree: t.Any, node: t.Any, pos: int, size: int) -> t.Any:
        kind = tree[0]
        if kind == "lit":
            return tree[1]
        if kind == "num":
            return tree[1]
        if kind == "or":
            return _to_bool(self._eval(tree[1], node, pos, size)) or _to_bool(self._eval(tree[2], node, pos, size))
        if kind == "and":
            return _to_bool(self._eval(tree[1], node, pos, size)) and _to_bool(self._eval(tree[2], node, pos, size))
        if kind == "cmp":
            return _compare(tree[1], self._eval(tree[2], node, pos, size), self._eval(tree[3], node, pos, size))
        if kind == "union":
            left, right = self._eval(tree[1], node, pos, size), self._eval(tree[2], node, pos, size)
            if not isinstance(left, list) or not isinstance(right, list):
                raise XPathError("Expression must evaluate to a node-set.")
            return self._sorted(left + right)
        if kind == "root":
            doc = node if node.nodeType == Node.DOCUMENT_NODE else node.ownerDocument
            return self._steps([doc], tree[1])
        if kind == "rel":
            return self._steps([node], tree[1])
        if kind == "filter":
            nodes = self._eval(tree[1], node, pos, size)
            for pred in tree[2]:
                nodes = self._apply_predicate(nodes, pred)
            return nodes
        if kind == "path":
            base = self._eval(tree[1], node, pos, size)
            return self._steps(base, tree[2])
        if kind == "fn":
            return self._function(tree[1], tree[2], node, pos, size)
        raise XPathError(f"'{self.expr}' has an invalid token.")

    def _steps(self, nodes: list[t.Any], steps: list[tuple[str, str, list[t.Any]]]) -> list[t.Any]:
        current = nodes
        for axis, test, preds in steps:
            nxt: list[t.Any] = []
            for n in current:
                matched = [c for c in _axis(n, axis) if _node_test(c, test, axis)]
                for pred in preds:
                    matched = self._apply_predicate(matched, pred, reverse=axis in (
                        "ancestor", "ancestor-or-self", "preceding-sibling", "preceding"))
                nxt.extend(matched)
            current = self._sorted(nxt)
        return current

    def _apply_predicate(self, nodes: list[t.Any], pred: t.Any, reverse: bool = False) -> list[t.Any]:
        ordered = list(reversed(nodes)) if reverse else list(nodes)
        out = []
        for idx, n in enumerate(ordered, 1):
            value = self._eval(pred, n, idx, len(ordered))
            keep = (_to_number(value) == idx) if isinstance(value, float) else _to_bool(value)
            if keep:
                out.append(n)
        return list(reversed(out)) if reverse else out

    def _function(self, name: str, args: list[t.Any], node: t.Any, pos: int, size: int) -> t.Any:
        vals = [self._eval(a, node, pos, size) for a in args]
        if name == "last":
            return float(size)
        if name == "position":
            return float(pos)
        if name == "count":
            return float(len(vals[0]))
        if name == "not":
            return not _to_bool(vals[0])
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "string":
            return _to_string(vals[0]) if vals else string_value(node)
        if name == "normalize-space":
            return " ".join((_to_string(vals[0]) if vals else string_value(node)).split())
        if name == "contains":
            return _to_string(vals[1]) in _to_string(vals[0])
        if name == "starts-with":
            return _to_string(vals[0]).startswith(_to_string(vals[1]))
        if name == "string-length":
            return float(len(_to_string(vals[0]) if vals else string_value(node)))
        if name == "concat":
            return "".join(_to_string(v) for v in vals)
        if name in ("name", "local-name"):
            target = (vals[0][0] if vals and vals[0] else None) if vals else node
            if target is None or target.nodeType not in (Node.ELEMENT_NODE, Node.ATTRIBUTE_NODE):
                return ""
            return target.nodeName if name == "name" else (target.localName or target.nodeName)
        if name == "translate":
            src, frm, to = (_to_string(v) for v in vals)
            table = {ord(c): (to[i] if i < len(to) else None) for i, c in enumerate(frm)}
            return src.translate(table)
        if ":" in name:
            raise XPathError("Namespace Manager or XsltContext needed. This query has a prefix, variable, or "
                             "user-defined function.")
        raise XPathError(f"'{self.expr}' has an invalid function.")


def _compare(op: str, left: t.Any, right: t.Any) -> bool:
    def pairs() -> t.Iterator[tuple[t.Any, t.Any]]:
        lefts = [string_value(n) for n in left] if isinstance(left, list) else [left]
        rights = [string_value(n) for n in right] if isinstance(right, list) else [right]
        for a in lefts:
            for b in rights:
                yield a, b

    for a, b in pairs():
        if op in ("=", "!="):
            if isinstance(a, bool) or isinstance(b, bool):
                eq = _to_bool(a) == _to_bool(b)
            elif isinstance(a, float) or isinstance(b, float):
                eq = _to_number(a) == _to_number(b)
            else:
                eq = str(a) == str(b)
            if eq == (op == "="):
                return True
        else:
            x, y = _to_number(a), _to_number(b)
            if {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]:
                return True
    return False


def _document_order(doc: minidom.Document) -> dict[int, int]:
    order: dict[int, int] = {}

    def walk(n: t.Any) -> None:
        order[id(n)] = len(order)
        if n.nodeType == Node.ELEMENT_NODE:
            for i in range(n.attributes.length):
                a = n.attributes.item(i)
                order[id(a)] = len(order)
        for c in n.childNodes:
            walk(c)

    walk(doc)
    return order


def _attr_nodes(n: t.Any) -> list[t.Any]:
    if n.nodeType != Node.ELEMENT_NODE:
        return []
    return [n.attributes.item(i) for i in range(n.attributes.length)
            if not (n.attributes.item(i).name == "xmlns" or n.attributes.item(i).name.startswith("xmlns:"))]


def _parent(n: t.Any) -> t.Any:
    return n.ownerElement if n.nodeType == Node.ATTRIBUTE_NODE else n.parentNode


def _descendants(n: t.Any) -> list[t.Any]:
    out = []
    for c in n.childNodes:
        out.append(c)
        out.extend(_descendants(c))
    return out


def _axis(n: t.Any, axis: str) -> list[t.Any]:
    if axis == "child":
        return list(n.childNodes) if n.nodeType != Node.ATTRIBUTE_NODE else []
    if axis == "attribute":
        return _attr_nodes(n)
    if axis == "self":
        return [n]
    if axis == "parent":
        p = _parent(n)
        return [p] if p is not None else []
    if axis == "descendant":
        return _descendants(n) if n.nodeType != Node.ATTRIBUTE_NODE else []
    if axis == "descendant-or-self":
        return [n, *(_descendants(n) if n.nodeType != Node.ATTRIBUTE_NODE else [])]
    if axis in ("ancestor", "ancestor-or-self"):
        out = [n] if axis == "ancestor-or-self" else []
        p = _parent(n)
        while p is not None:
            out.append(p)
            p = p.parentNode
        return out
    if axis in ("following-sibling", "preceding-sibling"):
        p = n.parentNode if n.nodeType != Node.ATTRIBUTE_NODE else None
        if p is None:
            return []
        sibs = list(p.childNodes)
        idx = next(i for i, s in enumerate(sibs) if s is n)
        return sibs[idx + 1:] if axis == "following-sibling" else sibs[:idx]
    raise XPathError(f"axis {axis} is not supported")


def _node_test(n: t.Any, test: str, axis: str) -> bool:
    if test == "node()":
        return True
    if test == "text()":
        return n.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE)
    if test == "comment()":
        return n.nodeType == Node.COMMENT_NODE
    if test == "processing-instruction()":
        return n.nodeType == Node.PROCESSING_INSTRUCTION_NODE
    principal = Node.ATTRIBUTE_NODE if axis == "attribute" else Node.ELEMENT_NODE
    if n.nodeType != principal:
        return False
    if test == "*":
        return True
    if ":" in test:
        raise XPathError("Namespace Manager or XsltContext needed. This query has a prefix, variable, or "
                         "user-defined function.")
    return (n.localName or n.nodeName) == test and not n.namespaceURI


# -- XmlDocument.Load / Save ------------------------------------------------------------

def _strip_whitespace(node: t.Any) -> None:
    """``PreserveWhitespace = $false``: whitespace-only text nodes go."""
    for child in list(node.childNodes):
        if child.nodeType == Node.TEXT_NODE and not child.data.strip():
            node.removeChild(child)
        elif child.nodeType == Node.ELEMENT_NODE:
            _strip_whitespace(child)


def _declaration(data: bytes) -> str | None:
    text = data.decode("utf-8-sig", "replace").lstrip()
    m = re.match(r"<\?xml[^?]*\?>", text)
    return m.group(0) if m else None


def _escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    return (_escape_text(value).replace('"', "&quot;").replace("\r", "&#xD;").replace("\n", "&#xA;")
            .replace("\t", "&#x9;"))


def save_document(doc: minidom.Document, declaration: str | None, indent: bool) -> bytes:
    """``XmlDocument.Save(path)``: UTF-8 with BOM, CRLF, two-space indent
    (when whitespace is not preserved)."""
    out: list[str] = []
    nl = "\r\n"

    def write(node: t.Any, depth: int, indenting: bool) -> None:
        pad = ("  " * depth) if indenting else ""
        if node.nodeType == Node.ELEMENT_NODE:
            attrs = "".join(f' {a.name}="{_escape_attr(a.value)}"'
                            for a in (node.attributes.item(i) for i in range(node.attributes.length)))
            if not node.childNodes:
                if getattr(node, "_winsim_full_end", False):
                    out.append(f"{pad}<{node.tagName}{attrs}></{node.tagName}>")
                else:
                    out.append(f"{pad}<{node.tagName}{attrs} />")
                return
            mixed = any(c.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE) for c in node.childNodes)
            out.append(f"{pad}<{node.tagName}{attrs}>")
            for child in node.childNodes:
                if indenting and not mixed:
                    out.append(nl)
                write(child, depth + 1, indenting and not mixed)
            if indenting and not mixed:
                out.append(nl + pad)
            out.append(f"</{node.tagName}>")
        elif node.nodeType == Node.TEXT_NODE:
            out.append(_escape_text(node.data))
        elif node.nodeType == Node.CDATA_SECTION_NODE:
            out.append(f"<![CDATA[{node.data}]]>")
        elif node.nodeType == Node.COMMENT_NODE:
            out.append(f"{pad}<!--{node.data}-->")
        elif node.nodeType == Node.PROCESSING_INSTRUCTION_NODE:
            out.append(f"{pad}<?{node.target} {node.data}?>")

    first = True
    if declaration:
        out.append(declaration)
        first = False
    for child in doc.childNodes:
        if child.nodeType == Node.DOCUMENT_TYPE_NODE:
            continue
        if not first and indent:
            out.append(nl)
        write(child, 0, indent)
        first = False
    return b"\xef\xbb\xbf" + "".join(out).encode("utf-8")


_MARKUP_SKIP = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>", re.DOTALL)
_START_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)(?:\s(?:[^>\"'/]|/(?!>)|\"[^\"]*\"|'[^']*')*)?(/?)>")


def load_document(data: bytes, preserve_whitespace: bool) -> minidom.Document:
    """``XmlDocument.Load``; elements written ``<a></a>`` remember it
    (``XmlElement.IsEmpty`` is false) so that saving keeps the full end tag."""
    doc = minidom.parseString(data)
    text = _MARKUP_SKIP.sub(" ", data.decode("utf-8-sig", "replace"))
    self_closing = [m.group(2) == "/" for m in _START_TAG.finditer(text)]
    elements = [n for n in _descendants(doc) if n.nodeType == Node.ELEMENT_NODE]
    if len(elements) == len(self_closing):
        for element, closed in zip(elements, self_closing, strict=True):
            element._winsim_full_end = not closed
    if not preserve_whitespace:
        _strip_whitespace(doc)
    return doc


# -- the module ------------------------------------------------------------------------

def _copy_xml(dest: t.Any, src: t.Any, doc: minidom.Document, ns: str | None) -> None:
    """``Copy-Xml``."""
    if src.nodeType == Node.TEXT_NODE:
        _set_inner_text(dest, src.data)
    if src.nodeType == Node.ELEMENT_NODE:
        for i in range(src.attributes.length):
            a = src.attributes.item(i)
            dest.setAttribute(a.name, a.value)
    for child in src.childNodes:
        if child.nodeType == Node.ELEMENT_NODE:
            new = doc.createElementNS(ns, child.tagName) if ns else doc.createElement(child.tagName)
            _copy_xml(new, child, doc, ns)
            dest.appendChild(new)
        elif child.nodeType == Node.TEXT_NODE:
            _set_inner_text(dest, child.data)


def _set_inner_text(node: t.Any, text: str | None) -> None:
    if node.nodeType == Node.ATTRIBUTE_NODE:
        node.value = text or ""
        return
    for child in list(node.childNodes):
        node.removeChild(child)
    if text:
        node.appendChild(node.ownerDocument.createTextNode(text))


def _inner_text(node: t.Any) -> str:
    return string_value(node)


def _node_name(node: t.Any) -> str:
    if node.nodeType == Node.TEXT_NODE:
        return "#text"
    if node.nodeType == Node.COMMENT_NODE:
        return "#comment"
    if node.nodeType == Node.CDATA_SECTION_NODE:
        return "#cdata-section"
    return node.nodeName


def _attrs(node: t.Any) -> list[tuple[str, str]]:
    if node.nodeType != Node.ELEMENT_NODE:
        return []
    return [(node.attributes.item(i).name, node.attributes.item(i).value) for i in range(node.attributes.length)]


def xml_equal(actual: t.Any, expected: t.Any) -> bool:
    """``Compare-XmlDoc`` (no exception = equal)."""
    if _node_name(actual) != _node_name(expected):
        return False
    if actual.nodeType == Node.ELEMENT_NODE and expected.nodeType == Node.ELEMENT_NODE:
        a_attrs, e_attrs = _attrs(actual), _attrs(expected)
        if a_attrs and e_attrs and a_attrs != e_attrs:
            return False
        if bool(a_attrs) != bool(e_attrs):
            return False
    if len(expected.childNodes) != len(actual.childNodes):
        return False
    for a, e in zip(actual.childNodes, expected.childNodes, strict=True):
        if not xml_equal(e, a):
            return False
    if _inner_text(expected):
        return _inner_text(expected) == _inner_text(actual)
    return not _inner_text(actual)


@model("community.windows.win_xml", upstream=_UPSTREAM)
def win_xml(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path = p["path"]
    dest = fs.resolve_path(ctx, path)
    fragment = p.get("fragment")
    xpath = p["xpath"]
    node_type = p.get("type") or "element"
    attribute = p.get("attribute")
    state = p.get("state") or "present"
    content = p.get("content")
    result = ctx.exit()

    if node_type == "attribute" and not attribute:
        ctx.fail("Get-AnsibleParam: Missing required argument: attribute")
    item = st.get_item(ctx.state, dest)
    if item is None or item["type"] != "file":
        ctx.fail(f"Specified path {path} does not exist or is not a file.")
    raw = st.read_file(ctx.state, dest)
    try:
        doc = load_document(raw, bool(p.get("preserve_whitespace")))
    except ExpatError as exc:
        ctx.fail(f"Failed to parse file at '{path}' as an XML document: {_expat_message(exc)}")
    declaration = _declaration(raw)
    ns = doc.documentElement.namespaceURI or None
    try:
        nodes = XPath(xpath).select(doc)
    except XPathError as exc:
        fs.unhandled(ctx, f"Exception calling \"SelectNodes\" with \"2\" argument(s): \"{exc}\"")

    if p.get("count"):
        result["count"] = len(nodes)
        if not fragment and not content:
            return result
    if not nodes:
        return ctx.exit(msg="The supplied xpath did not match any nodes.  If this is unexpected, check your xpath "
                            "is valid for the xml file at supplied path.")
    changed = False
    result["msg"] = "not changed"

    if content:
        found = []
        for node in nodes:
            if content == "attribute":
                found.append({node.nodeName: dict(_attrs(node))})
            else:
                text = _inner_text(node)
                found.append({node.nodeName: text if text != "" else None})
        return ctx.exit(matches=found)

    if node_type == "element":
        if state == "absent":
            for node in nodes:
                if not ctx.check_mode:
                    parent = _parent(node)
                    if node.nodeType == Node.ATTRIBUTE_NODE:
                        fs.unhandled(ctx, "You cannot call a method on a null-valued expression.")
                    parent.removeChild(node)
                    changed = True
        else:
            try:
                frag = minidom.parseString(fragment or "")
                _strip_whitespace(frag)  # [xml]$fragment: PreserveWhitespace is $false
            except ExpatError as exc:
                ctx.fail(f"Failed to parse fragment as XML: Cannot convert value \"{fragment}\" to type "
                         f"\"System.Xml.XmlDocument\". Error: \"{_expat_message(exc)}\"")
            frag_root = frag.documentElement
            for node in nodes:
                candidate = doc.createElementNS(ns, frag_root.tagName) if ns else doc.createElement(frag_root.tagName)
                _copy_xml(candidate, frag_root, doc, ns)
                target = node.documentElement if node.nodeType == Node.DOCUMENT_NODE else node
                elements = [target] if not target.childNodes else list(target.childNodes)
                present = False
                changed = False
                if elements:
                    present = any(xml_equal(candidate, el) for el in elements)
                    if not present and state == "present":
                        target.appendChild(candidate)
                        result["msg"] += "xml added "
                        changed = True
    elif node_type == "text":
        for node in nodes:
            if _inner_text(node) != (fragment or ""):
                _set_inner_text(node, fragment)
                changed = True
    else:
        for node in nodes:
            if state == "present":
                if node.nodeType == Node.ATTRIBUTE_NODE:
                    if node.name == attribute and node.value != (fragment or ""):
                        node.value = fragment or ""
                        changed = True
                elif node.nodeType == Node.ELEMENT_NODE and (
                        not node.hasAttribute(attribute) or node.getAttribute(attribute) != (fragment or "")):
                    node.setAttribute(attribute, fragment or "")
                    changed = True
            else:
                if node.nodeType == Node.ATTRIBUTE_NODE:
                    owner = node.ownerElement
                    if owner.hasAttribute(attribute):
                        owner.removeAttribute(attribute)
                    changed = True
                elif node.nodeType == Node.ELEMENT_NODE and node.hasAttribute(attribute):
                    node.removeAttribute(attribute)
                    changed = True

    if changed:
        summary = f"{node_type} removed" if state == "absent" else f"{node_type} changed"
        ctx.changed()
        if not ctx.check_mode:
            if p.get("backup"):
                now = ctx.now()
                pid = 1000 + int(now.timestamp()) % 60000
                backup = f"{dest}.{pid}.{now.strftime('%Y%m%d-%H%M%S')}.bak"
                fs.write_bytes(ctx, backup, raw)
                result["backup_file"] = backup
            try:
                fs.write_bytes(ctx, dest, save_document(doc, declaration, not p.get("preserve_whitespace")))
            except st.DiskFull:
                fs.unhandled(ctx, f"Exception calling \"Save\" with \"1\" argument(s): \"{fs.disk_full_message()}\"")
            result["msg"] = summary
        else:
            result["msg"] += " check mode"
    return result


def _expat_message(exc: ExpatError) -> str:
    text = str(exc).split(":", 1)[0]
    return f"{text[:1].upper()}{text[1:]}. Line {exc.lineno}, position {exc.offset + 1}."
