"""Edit propagation: the user replaced A by B; propose B where A occurs in the same role.

Works with any model (it uses none): after a rename, a changed call's argument list or a
changed literal, the other places that still say A are the likely next edits. "Same role"
is decided on tree-sitter nodes (``roles``), not on text:

1. The latest hunk is widened to whole words, then both the text before it (old) and after
   it (current) are parsed; the innermost role node covering the hunk that exists on both
   sides with the same kind and the same surroundings gives A (old side) and B (current).
2. Every occurrence of A in the old text is a candidate only if the node there is exactly A
   with the same role: a name, member or keyword name of a compatible group (a part of a
   longer identifier, a comment or a string never is); a literal with the same context
   (the same keyword, key, left-hand side, or the same argument of the same callee); an
   argument list of a call to the same callee.
3. Names resolve like lexical scopes: the innermost scope that binds A (parameter,
   assignment or declaration, definition name) and contains the occurrence. A candidate
   must resolve to the same scope as the edited name, so renaming one function's parameter
   is not proposed in another function, nor where a nested scope rebinds A.
4. Open files get proposals too for names that resolve to the file's top level, methods
   and argument lists; the current file's come first, nearest to the cursor. A method
   (a definition in a class or impl, or a Go method) is matched where it is used as a member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tree_sitter import Node

from slm_lsp.context.syntax import ParsedText, parse
from slm_lsp.nextedit.history import DocumentView
from slm_lsp.nextedit.hunks import trimmed
from slm_lsp.nextedit.roles import (
    ARGUMENTS,
    KEYWORD,
    LITERAL,
    MEMBER,
    NAME,
    NOT_BINDING_FIELDS,
    STOP_KINDS,
    Grammar,
    grammar_roles,
)

MAX_CHARS = 1 << 20  # larger documents are not parsed twice per request
_CHAIN_DEPTH = 8
_BINDING_DEPTH = 8
_WRAPPERS = frozenset({"parenthesized_expression", "literal_element", "expression_list", "unary_expression",
                       "literal_value"})
_TRAILING_NAME = re.compile(r"[A-Za-z_$][\w$]*$")


@dataclass(frozen=True)
class Proposal:
    """Replace ``[start, end)`` of document ``uri`` (its current text) by ``text``."""

    uri: str
    start: int
    end: int
    text: str
    role: str
    old: str


@dataclass(frozen=True)
class _Anchor:
    role: str
    kind: str
    old_text: str  # A
    new_text: str  # B
    start: int  # the node's start (same on both sides)
    old_end: int  # its end in the old text
    groups: frozenset[str]  # for names: the groups a candidate may be in
    context: tuple[object, ...]  # literal context or callee name


def propagate(document: DocumentView, start: int, old: str, new: str, cursor: int | None = None,
              others: Sequence[DocumentView] = (), limit: int = 5) -> list[Proposal]:
    """Proposals for the change ``old`` → ``new`` at ``start`` of ``document`` (whose text
    already holds ``new``), nearest to ``cursor`` first, then other open documents'."""
    roles = grammar_roles(document.grammar)
    text = document.text
    if roles is None or len(text) > MAX_CHARS or text[start:start + len(new)] != new:
        return []
    change = trimmed(start, old, new)
    if change is None:
        return []
    start, old, new = _whole_words(text, *change)
    before = text[:start] + old + text[start + len(new):]
    parsed_old, parsed_new = parse(before, document.grammar or ""), parse(text, document.grammar or "")
    if parsed_old is None or parsed_new is None:
        return []
    anchor = _anchor(roles, parsed_old, parsed_new, start, old, new)
    if anchor is None:
        return []
    delta = len(text) - len(before)
    origin = start + len(new) if cursor is None else cursor
    found: list[tuple[int, int, int, Proposal]] = []
    ranges, top_level = _candidates(roles, parsed_old, anchor, same_file=True)
    for node_start, node_end in ranges:
        if node_start < anchor.old_end and anchor.start < node_end:
            continue  # the edited place itself
        shift = delta if node_start >= anchor.old_end else 0
        begin, finish = node_start + shift, node_end + shift
        proposal = Proposal(document.uri, begin, finish, anchor.new_text, anchor.role, anchor.old_text)
        found.append((0, abs(begin - origin), begin, proposal))
    if _crosses_files(anchor, top_level):
        for rank, other in enumerate(others, start=1):
            if other.uri == document.uri or grammar_roles(other.grammar) is not roles or len(other.text) > MAX_CHARS:
                continue
            parsed = parse(other.text, other.grammar or "")
            if parsed is None:
                continue
            for node_start, node_end in _candidates(roles, parsed, anchor, same_file=False)[0]:
                proposal = Proposal(other.uri, node_start, node_end, anchor.new_text, anchor.role, anchor.old_text)
                found.append((rank, node_start, node_start, proposal))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found[:limit]]


# -- the edited node -----------------------------------------------------------------------------


def _whole_words(text: str, start: int, old: str, new: str) -> tuple[int, str, str]:
    """Widen a change that starts or ends inside a word to the whole word (both sides share
    the text around the change): ``count`` + ``er`` is ``count`` → ``counter``."""
    if _word(old[:1]) or _word(new[:1]):
        while start > 0 and _word(text[start - 1]):
            start -= 1
            old, new = text[start] + old, text[start] + new
    end = start + len(new)
    if _word(old[-1:]) or _word(new[-1:]):
        while end < len(text) and _word(text[end]):
            old, new = old + text[end], new + text[end]
            end += 1
    return start, old, new


def _word(char: str) -> bool:
    return bool(char) and (char.isalnum() or char in "_$")


def _anchor(roles: Grammar, parsed_old: ParsedText, parsed_new: ParsedText, start: int, old: str,
            new: str) -> _Anchor | None:
    """The innermost role node around the change present on both sides, as A and B."""
    old_chain = list(_role_chain(roles, parsed_old, start, start + len(old)))
    tail = len(parsed_new.text) - (start + len(new))
    for role, node in _role_chain(roles, parsed_new, start, start + len(new)):
        node_start, node_end = parsed_new.start(node), parsed_new.end(node)
        for old_role, old_node in old_chain:
            if old_role != role or old_node.type != node.type or parsed_old.start(old_node) != node_start:
                continue
            old_end = parsed_old.end(old_node)
            if len(parsed_old.text) - old_end != len(parsed_new.text) - node_end:
                continue
            a, b = parsed_old.node_text(old_node), parsed_new.node_text(node)
            if a == b or node_end < len(parsed_new.text) - tail:
                continue
            return _describe(roles, parsed_old, old_node, role, a, b, node_start, old_end)
    return None


def _describe(roles: Grammar, parsed: ParsedText, node: Node, role: str, a: str, b: str, start: int,
              old_end: int) -> _Anchor | None:
    if role == NAME:
        group = _group(roles, node)
        method = _method_name(roles, node)
        groups = frozenset({MEMBER}) if method else frozenset({group})
        context: tuple[object, ...] = ()
        if group == KEYWORD and node.parent is not None:
            context = (_callee(roles, parsed, node.parent.parent),)
        elif group == MEMBER and not method:
            context = (_receiver(roles, parsed, node),)
        return _Anchor(NAME, node.type, a, b, start, old_end, groups, context)
    if role == LITERAL:
        return _Anchor(LITERAL, node.type, a, b, start, old_end, frozenset(), _literal_context(roles, parsed, node))
    callee = _callee(roles, parsed, node)
    if callee is None:
        return None
    return _Anchor(ARGUMENTS, node.type, a, b, start, old_end, frozenset(), (callee,))


def _role_chain(roles: Grammar, parsed: ParsedText, start: int, end: int) -> Iterable[tuple[str, Node]]:
    """Role nodes covering [start, end), innermost first."""
    node: Node | None = parsed.root.named_descendant_for_byte_range(parsed.offsets.byte(start), parsed.offsets.byte(end))
    for _ in range(_CHAIN_DEPTH):
        if node is None:
            return
        role = _role(roles, node)
        if role is not None:
            yield role, node
        node = node.parent


def _role(roles: Grammar, node: Node) -> str | None:
    if node.type in roles.names or node.type in roles.members:
        return NAME
    if node.type in roles.literals:
        return LITERAL
    if node.type in roles.arguments:
        return ARGUMENTS
    return None


# -- candidates ----------------------------------------------------------------------------------


def _candidates(roles: Grammar, parsed: ParsedText, anchor: _Anchor, *,
                same_file: bool) -> tuple[list[tuple[int, int]], bool]:
    """Character ranges in ``parsed`` where A is a node in the anchor's role (the edited place
    included when ``parsed`` is the old text: the caller skips it), and whether the edited
    name resolves to the file's top level."""
    nodes = _exact_nodes(parsed, anchor.old_text.encode("utf-8", "surrogatepass"))
    if anchor.role == NAME:
        return _names(roles, parsed, anchor, nodes, same_file)
    kept: list[tuple[int, int]] = []
    for node in nodes:
        if node.type != anchor.kind:
            continue
        if anchor.role == LITERAL and _literal_context(roles, parsed, node) != anchor.context:
            continue
        if anchor.role == ARGUMENTS and (_callee(roles, parsed, node),) != anchor.context:
            continue
        kept.append((parsed.start(node), parsed.end(node)))
    return kept, False


def _names(roles: Grammar, parsed: ParsedText, anchor: _Anchor, nodes: list[Node],
           same_file: bool) -> tuple[list[tuple[int, int]], bool]:
    names = [node for node in nodes if node.type in roles.names or node.type in roles.members]
    scopes = {scope for node in names if _group(roles, node) == NAME and (scope := _binding_scope(roles, node))}
    root = (parsed.root.start_byte, parsed.root.end_byte)
    if same_file:
        edited = next((n for n in names if parsed.start(n) == anchor.start), None)
        home = _resolve(scopes, edited, root) if edited is not None else root
    else:
        home = root
    kept: list[tuple[int, int]] = []
    for node in names:
        group = _group(roles, node)
        if group not in anchor.groups:
            continue
        if group == NAME and _resolve(scopes, node, root) != home:
            continue
        if group == KEYWORD and node.parent is not None and (_callee(roles, parsed, node.parent.parent),) != anchor.context:
            continue
        if group == MEMBER and anchor.context and (_receiver(roles, parsed, node),) != anchor.context:
            continue
        kept.append((parsed.start(node), parsed.end(node)))
    return kept, home == root


def _crosses_files(anchor: _Anchor, top_level: bool) -> bool:
    """Whether the change can concern other files: names at the top level, members, definitions
    and argument lists (literals stay in their file)."""
    if anchor.role == ARGUMENTS:
        return True
    if anchor.role != NAME:
        return False
    if MEMBER in anchor.groups:
        return not anchor.context  # a method's definition; a use through an object stays in its file
    return top_level


def _exact_nodes(parsed: ParsedText, needle: bytes) -> list[Node]:
    """The named nodes whose text is exactly ``needle`` (so never a part of a longer one)."""
    found: list[Node] = []
    position = parsed.data.find(needle)
    while position >= 0 and needle:
        node = parsed.root.named_descendant_for_byte_range(position, position + len(needle))
        if node is not None and node.start_byte == position and node.end_byte == position + len(needle):
            found.append(node)
        position = parsed.data.find(needle, position + 1)
    return found


def _resolve(scopes: set[tuple[int, int]], node: Node | None, root: tuple[int, int]) -> tuple[int, int]:
    """The innermost binding scope holding ``node`` (the file when none does): scopes are node
    ranges, so walking up the ancestors finds it without comparing every scope."""
    while node is not None:
        span = (node.start_byte, node.end_byte)
        if span in scopes:
            return span
        node = node.parent
    return root


# -- names: groups and bindings ------------------------------------------------------------------


def _group(roles: Grammar, node: Node) -> str:
    if node.type in roles.members:
        return MEMBER
    parent = node.parent
    if parent is not None:
        field = roles.member_parents.get(parent.type)
        if field is not None and parent.child_by_field_name(field) == node:
            return MEMBER
        field = roles.keyword_parents.get(parent.type)
        if field is not None and parent.child_by_field_name(field) == node:
            return KEYWORD
    return NAME


def _receiver(roles: Grammar, parsed: ParsedText, node: Node) -> str | None:
    """The object a member is used through (``stop`` in ``stop.set()``), None for none."""
    parent = node.parent
    field = roles.receivers.get(parent.type) if parent is not None else None
    if parent is None or field is None:
        return None
    target = parent.child_by_field_name(field)
    return None if target is None or target == node else parsed.node_text(target)


def _method_name(roles: Grammar, node: Node) -> bool:
    """Whether ``node`` names a method (or a class member): its uses are ``obj.name``, never a bare name."""
    parent = node.parent
    if parent is None or parent.type not in roles.definitions or parent.child_by_field_name("name") != node:
        return False
    if node.type in roles.members or parent.type in roles.methods:
        return True
    ancestor = parent.parent
    for _ in range(3):
        if ancestor is None:
            return False
        if ancestor.type in roles.classes:
            return True
        ancestor = ancestor.parent
    return False


def _binding_scope(roles: Grammar, node: Node) -> tuple[int, int] | None:
    """The byte range of the scope ``node`` (a name) binds in, None when it only uses the name."""
    child, parent = node, node.parent
    for _ in range(_BINDING_DEPTH):
        if parent is None:
            return None
        if parent.type in roles.definitions and parent.child_by_field_name("name") == child:
            return _enclosing_scope(roles, parent)
        if parent.type in roles.scopes and any(parent.child_by_field_name(f) == child for f in roles.parameter_fields):
            return (parent.start_byte, parent.end_byte)
        fields = roles.binders.get(parent.type)
        if fields and any(child in parent.children_by_field_name(f) for f in fields):
            if parent.type in roles.scopes:
                return (parent.start_byte, parent.end_byte)
            return _enclosing_scope(roles, parent)
        if parent.type in STOP_KINDS or any(parent.child_by_field_name(f) == child for f in NOT_BINDING_FIELDS):
            return None
        child, parent = parent, parent.parent
    return None


def _enclosing_scope(roles: Grammar, node: Node) -> tuple[int, int]:
    parent = node.parent
    while parent is not None:
        if parent.type in roles.scopes:
            return (parent.start_byte, parent.end_byte)
        if parent.parent is None:
            return (parent.start_byte, parent.end_byte)
        parent = parent.parent
    return (node.start_byte, node.end_byte)


# -- literals and calls --------------------------------------------------------------------------


def _literal_context(roles: Grammar, parsed: ParsedText, node: Node) -> tuple[object, ...]:
    """Where a literal stands: the same argument of the same callee, the value of the same
    keyword, key or left-hand side, or (otherwise) just the kind of its parent."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _WRAPPERS:
        child, parent = parent, parent.parent
    if parent is None:
        return ()
    if parent.type in roles.arguments:
        arguments = [c for c in parent.named_children if c.type != "comment"]
        index = next((i for i, c in enumerate(arguments) if c == child), -1)
        return (parent.type, _callee(roles, parsed, parent), index)
    for field in ("name", "key", "left", "pattern", "field"):
        labelled = parent.child_by_field_name(field)
        if labelled is not None and labelled != child:
            outer = parent.parent
            callee = _callee(roles, parsed, outer) if outer is not None and outer.type in roles.arguments else None
            return (parent.type, field, parsed.node_text(labelled), callee)
    return (parent.type,)


def _callee(roles: Grammar, parsed: ParsedText, arguments: Node | None) -> str | None:
    """The called name of an argument list's call (``obj.send(x)`` → ``send``)."""
    call = arguments.parent if arguments is not None else None
    if call is None:
        return None
    for field in roles.callee_fields:
        function = call.child_by_field_name(field)
        if function is not None:
            text = parsed.node_text(function)
            match = _TRAILING_NAME.search(text)
            return match.group() if match else text
    return None
