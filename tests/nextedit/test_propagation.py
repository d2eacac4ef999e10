"""Edit propagation on table-driven cases: renames, argument changes and literals in Python,
JavaScript/TypeScript, Go and Rust, and the places it must not touch (comments, strings,
longer identifiers, another scope)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from slm_lsp.nextedit.history import DocumentView
from slm_lsp.nextedit.propagation import propagate
from slm_lsp.nextedit.roles import GRAMMARS
from slm_lsp.treesitter import parser_for


@dataclass(frozen=True)
class Case:
    name: str
    grammar: str
    source: str
    needle: str  # the user's edit: this text, at its ``occurrence``-th place (1-based) ...
    replacement: str  # ... became this
    expected: list[tuple[int, str, str]]  # (line, text replaced, replacement), nearest first
    occurrence: int = 1


PY_SCOPES = '''\
def area(width, height):
    # width is in metres
    label = "width"
    widths = [width]
    return width * height


def other(width):
    return width + 1
'''

PY_GLOBAL = '''\
def fetch(url):
    return url


def main():
    fetch("a")  # fetch( in a comment
    prefetch = fetch
    return fetch("b")
'''

PY_CALLS = '''\
total = compute(a, b)
again = compute(a, b)
longer = compute(a, b, c)
different = other(a, b)
text = "compute(a, b)"
'''

PY_METHOD = '''\
class Cart:
    def add(self, item):
        self.items.append(item)

    def add_all(self, items):
        for item in items:
            self.add(item)


add = 3
'''

PY_LITERALS = '''\
connect(retries=3)
connect(retries=3)
connect(timeout=3)
other(retries=3)
# connect(retries=3)
'''

PY_RECEIVER = '''\
def stop(ticket, closing):
    ticket.set()
    closing.set()
    ticket.set()
'''

GO_RECEIVER = '''\
package p

func f(a, b *T) {
	a.Reset()
	b.Reset()
	a.Reset()
}
'''

TS_SCOPES = '''\
function scale(count: number): number {
  const doubled = count * 2; // count twice
  return doubled + count;
}
function other(count: number) { return count; }
const counter = 1;
'''

TS_CALLS = '''\
const a = client.send("ping", 1);
const b = other.send("ping", 1);
const c = send("ping", 2);
const d = client.receive("ping", 1);
'''

JS_LITERAL = '''\
const url = fetchJson('/api/v1/items');
const more = fetchJson('/api/v1/items');
const label = '/api/v1/items';
// fetchJson('/api/v1/items')
'''

JS_MEMBER = '''\
class Store {
  load() { return this.loadAll(); }
  loadAll() { return []; }
}
const s = new Store();
s.loadAll();
loadAll();
'''

GO_SCOPES = '''\
package p

func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

func Other() int {
	total := 1
	return total // total
}
'''

GO_CALLS = '''\
package p

func run() {
	log.Printf("start %d", n)
	log.Printf("start %d", n)
	fmt.Printf("start %d", n)
	_ = "log.Printf(\\"start %d\\", n)"
}
'''

GO_LITERAL = '''\
package p

func limits() {
	setLimit(100, "a")
	setLimit(100, "b")
	setOther(100)
	x := 1000
}
'''

RS_SCOPES = '''\
fn area(width: u32, height: u32) -> u32 {
    let w = width; // width again
    width * height + w
}

fn other(width: u32) -> u32 {
    width
}

fn widths() -> u32 { 0 }
'''

RS_CALLS = '''\
fn main() {
    draw(&canvas, 1);
    draw(&canvas, 1);
    redraw(&canvas, 1);
    let s = "draw(&canvas, 1)";
}
'''

RS_LITERAL = '''\
fn main() {
    retry(3, "x");
    retry(3, "y");
    let n = 3;
}
'''

RS_SHADOW = '''\
fn main() {
    let value = 1;
    let doubled = value * 2;
    {
        let value = 5;
        println!("{}", value);
    }
    value + doubled
}
'''

CASES = [
    # Python
    Case("py parameter rename stays in its function, skips comment, string, longer name", "python", PY_SCOPES,
         "width", "w", [(3, "width", "w"), (4, "width", "w")]),
    Case("py rename at a use finds the parameter", "python", PY_SCOPES, "width", "w", [(3, "width", "w"), (0, "width", "w")],
         occurrence=6),
    Case("py global function rename reaches other functions, not comments or longer names", "python", PY_GLOBAL,
         "fetch", "load", [(5, "fetch", "load"), (6, "fetch", "load"), (7, "fetch", "load")], occurrence=1),
    Case("py argument added: same callee, same arguments only", "python", PY_CALLS, "compute(a, b)", "compute(a, b, x)",
         [(1, "(a, b)", "(a, b, x)")]),
    Case("py method rename reaches self.add, not the module-level add", "python", PY_METHOD, "add", "push",
         [(6, "add", "push")]),
    Case("py member call through the same object only", "python", PY_RECEIVER, "set", "cancel", [(3, "set", "cancel")]),
    Case("py keyword literal: same keyword, same callee", "python", PY_LITERALS, "3", "5", [(1, "3", "5")]),
    # TypeScript / JavaScript
    Case("ts parameter rename stays in its function", "typescript", TS_SCOPES, "count", "n",
         [(1, "count", "n"), (2, "count", "n")]),
    Case("ts argument change by callee name", "typescript", TS_CALLS, '("ping", 1)', '("ping", 1, true)',
         [(1, '("ping", 1)', '("ping", 1, true)')]),
    Case("js string literal as the same argument", "javascript", JS_LITERAL, "'/api/v1/items'", "'/api/v2/items'",
         [(1, "'/api/v1/items'", "'/api/v2/items'")]),
    Case("js method rename reaches this.x and obj.x, not a bare call", "javascript", JS_MEMBER, "loadAll", "fetchAll",
         [(1, "loadAll", "fetchAll"), (5, "loadAll", "fetchAll")], occurrence=2),
    # Go
    Case("go local rename stays in its function", "go", GO_SCOPES, "total", "sum", [(5, "total", "sum"), (7, "total", "sum")]),
    Case("go argument added: same callee name", "go", GO_CALLS, '("start %d", n)', '("start %d", n, m)',
         [(4, '("start %d", n)', '("start %d", n, m)'), (5, '("start %d", n)', '("start %d", n, m)')]),
    Case("go member through the same operand only", "go", GO_RECEIVER, "Reset", "Clear", [(5, "Reset", "Clear")]),
    Case("go number literal as the same argument", "go", GO_LITERAL, "100", "200", [(4, "100", "200")]),
    # Rust
    Case("rust parameter rename stays in its function", "rust", RS_SCOPES, "width", "w_px",
         [(1, "width", "w_px"), (2, "width", "w_px")]),
    Case("rust argument change", "rust", RS_CALLS, "(&canvas, 1)", "(&canvas, 2)", [(2, "1", "2")]),
    Case("rust literal as the same argument", "rust", RS_LITERAL, "3", "4", [(2, "3", "4")]),
    Case("rust shadowing block keeps its own binding", "rust", RS_SHADOW, "value", "total",
         [(2, "value", "total"), (7, "value", "total")]),
]

NEGATIVES = [
    Case("only a comment mentions it", "python", "x = 1\n# x is nice\nprint('x')\n", "x", "y", []),
    Case("only a longer identifier", "javascript", "let id = 1;\nlet identity = idx + ids;\n", "id", "key", []),
    Case("another function's local of the same name", "go",
         "package p\nfunc a() { n := 1; _ = n }\nfunc b() { n := 2; _ = n }\n", "n :=", "m :=", [(1, "n", "m")]),
    Case("another function's parameter", "rust", "fn a(n: u8) -> u8 { n }\nfn b(n: u8) -> u8 { n }\n", "(n:", "(m:",
         [(0, "n", "m")]),
    Case("an edit inside a string is no rename", "python", 'a = "count"\ncount = 1\n', "count", "total", [], occurrence=1),
    Case("an edit inside a comment proposes nothing", "typescript", "// value here\nconst value = 1;\n", "value", "v", []),
]


def _run(case: Case) -> list[tuple[int, str, str]]:
    start = -1
    for _ in range(case.occurrence):
        start = case.source.index(case.needle, start + 1)
    text = case.source[:start] + case.replacement + case.source[start + len(case.needle):]
    proposals = propagate(DocumentView("file:///case", text, case.grammar), start, case.needle, case.replacement)
    return [(text.count("\n", 0, p.start), text[p.start:p.end], p.text) for p in proposals]


@pytest.mark.parametrize("case", CASES + NEGATIVES, ids=lambda c: c.name)
def test_propagation(case: Case) -> None:
    assert _run(case) == case.expected


def test_the_edited_place_is_never_proposed_and_proposals_apply_cleanly() -> None:
    case = CASES[0]
    start = case.source.index(case.needle)
    text = case.source[:start] + "w" + case.source[start + len(case.needle):]
    for proposal in propagate(DocumentView("file:///case", text, "python"), start, "width", "w"):
        assert proposal.start != start and text[proposal.start:proposal.end] == "width"


def test_open_documents_get_proposals_for_top_level_names_only() -> None:
    lib = "def fetch(url):\n    return url\n"
    user = "from lib import fetch\n\ndef go(fetch):\n    return fetch\n\nfetch('x')\n"
    edited = lib.replace("fetch", "load", 1)
    other = DocumentView("file:///user.py", user, "python")
    proposals = propagate(DocumentView("file:///lib.py", edited, "python"), 4, "fetch", "load", others=[other])
    found = [(p.uri, user.count("\n", 0, p.start)) for p in proposals]
    assert found == [("file:///user.py", 0), ("file:///user.py", 5)]  # not go()'s parameter
    local = "def a(url):\n    return url\n"
    renamed = local.replace("url", "address", 1)
    assert [p.uri for p in propagate(DocumentView("file:///lib.py", renamed, "python"), 6, "url", "address",
                                     others=[DocumentView("file:///user.py", "url = 1\n", "python")])] == ["file:///lib.py"]


@pytest.mark.parametrize("grammar", sorted(GRAMMARS))
def test_role_tables_name_node_kinds_the_grammar_has(grammar: str) -> None:
    """A misspelt kind would silently match nothing; JavaScript shares TypeScript's tables."""
    language = parser_for(grammar).language  # type: ignore[union-attr]
    roles = GRAMMARS[grammar]
    kinds = {language.node_kind_for_id(i) for i in range(language.node_kind_count)}
    used = (roles.names | roles.members | roles.literals | roles.arguments | roles.scopes | roles.definitions
            | roles.classes | roles.methods | set(roles.binders))
    typescript_only = {"interface_declaration", "type_alias_declaration", "enum_declaration",
                       "abstract_class_declaration", "type_identifier"}
    assert used - kinds <= (typescript_only if grammar == "javascript" else set())
