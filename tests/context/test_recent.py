"""Recently edited/viewed chunks of other documents: deduplicated, bounded, never redundant."""

from __future__ import annotations

from collections.abc import Callable

from slm_lsp.context.recent import RecentChunks
from tests.context.conftest import Workspace

Make = Callable[..., Workspace]

NOTES = "".join(f"# filler line {i}\n" for i in range(40))


def test_an_edit_in_another_document_is_offered_to_the_next_request(workspace: Make) -> None:
    ws = workspace({"notes.py": NOTES})
    ws.engine.document_opened(ws.uri("notes.py"), NOTES, "python")
    edited = NOTES.replace("# filler line 20\n", "def compute_invoice_total(lines, tax_rate):\n    return 0\n")
    ws.engine.document_changed(ws.uri("notes.py"), edited)
    result = ws.assemble("main.py", "total = <|>\n", language="python")
    recent = [p for p in result.extras if p.kind == "recent"]
    assert len(recent) == 1 and recent[0].source == "notes.py"
    assert "def compute_invoice_total(lines, tax_rate):" in recent[0].text
    assert "# filler line 14" in recent[0].text and "# filler line 0\n" not in recent[0].text  # lines around it


def test_repeated_edits_of_one_region_keep_one_chunk_and_the_ring_is_bounded() -> None:
    ring = RecentChunks(3, context_lines=2)
    text = "".join(f"line_{i} = {i}\n" for i in range(100))
    for step in range(5):  # typing in one place: one chunk, the newest text
        text = text.replace(f"line_50 = {step}", f"line_50 = {step + 1}") if step else text
        ring.record("file:///a.py", "a.py", text, text.index("line_50"), text.index("line_50") + 3)
    assert len(ring.candidates(None, "", 1.0)) == 1
    for i, where in enumerate((5, 30, 70, 90)):
        ring.record(f"file:///{i}.py", f"{i}.py", text, text.index(f"line_{where} ="), text.index(f"line_{where} ="))
    chunks = ring.candidates(None, "", 1.0)
    assert [c.source for c in chunks] == ["1.py", "2.py", "3.py"]  # oldest first, capacity 3


def test_chunks_of_the_current_document_or_repeating_the_cursor_area_are_dropped() -> None:
    ring = RecentChunks(8)
    body = "def parse_config(path):\n    with open(path) as handle:\n        return json.load(handle)\n"
    ring.record("file:///copy.py", "copy.py", body, 0, 10)
    ring.record("file:///here.py", "here.py", "def other_code():\n    pass\n", 0, 5)
    ring.record("file:///fresh.py", "fresh.py", "class Fresh:\n    colour = 'blue'\n", 0, 5)
    chosen = ring.candidates("file:///here.py", body, threshold=0.5)
    assert [c.source for c in chosen] == ["fresh.py"]


def test_a_viewed_region_of_the_previous_document_follows_the_user(workspace: Make) -> None:
    ws = workspace({})
    first = "class Basket:\n    def add_item(self, sku, quantity):\n        self.items[sku] = quantity\n"
    ws.assemble("basket.py", first + "<|>", language="python")
    result = ws.assemble("checkout.py", "basket = Basket()\nbasket.<|>\n", language="python")
    recent = [p for p in result.extras if p.kind == "recent"]
    assert recent and "def add_item(self, sku, quantity):" in recent[0].text and recent[0].source == "basket.py"
