"""Copy composed from the brief's own words: every line says only what the brief says, fits its limit,
ends in the brand's own closing phrases, and is checked and ranked beside the model's samples."""

import re
from pathlib import Path
from types import SimpleNamespace

from botkit.prompting.brand import BrandProfile, load_brand
from botkit.tasks.best_of_n import best_of_n
from botkit.tasks.brief_copy import archive_beside, brand_closings, compose

SAMPLE = Path(__file__).parent.parent / "examples" / "kettlebrook"
CLICK = "Click and collect: order online and pick it up free at any Kettlebrook shop, usually ready within 4 hours"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9$%]+", text.lower()))


def test_composed_lines_say_only_what_the_brief_says_within_the_limit():
    closings = ["simple as that"]
    for limit, sentence in ((30, False), (60, False), (90, True)):
        lines = compose(CLICK, limit, closings, sentence)
        assert lines and all(len(line) <= limit for line in lines)
        assert all(words(line) <= words(CLICK) | words(" ".join(closings)) for line in lines)
        assert all(line.endswith(".") for line in lines) if sentence else True
    # Too long for a subject line: it stops before a qualifier, never mid-phrase.
    assert "Pay in four interest-free installments with Klarna" in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 60)


def test_closings_come_from_the_brands_own_copy_and_none_are_made_up():
    brand = load_brand(SAMPLE / "brand.yaml")
    archive = archive_beside(SAMPLE / "brand.yaml")
    assert archive == SAMPLE / "copy_archive.jsonl"
    # A clause of a brand word and small words only: nothing it says is a product claim.
    assert "simple as that" in brand_closings(brand, archive)
    assert all("built to last" not in c for c in brand_closings(brand, archive))
    assert brand_closings(BrandProfile(name="Acme", words_to_use=["simple"]), None) == []


class Engine:
    """Replies with canned lines, as many as asked."""

    def __init__(self, replies):
        self.replies = replies

    def generate_batch(self, chats, options):
        return [SimpleNamespace(text=self.replies[i % len(self.replies)], completion_tokens=5)
                for i in range(len(chats))]


def test_composed_lines_are_checked_ranked_and_marked_beside_the_samples():
    from botkit.decoding import DecodingOptions

    composed = ["Order online, pick it up free", "Order online and pick it up free at any shop we have ever had x"]
    out = best_of_n(Engine(["Tea, any day", "Cold toast"]), [{"role": "user", "content": CLICK}], samples=2,
                    keep=3, limit=40, scorer=lambda texts: [len(t) for t in texts], decoding=DecodingOptions(),
                    check=lambda texts: [["off the brief"] if "toast" in t.lower() else [] for t in texts],
                    composed=composed)
    # The composed line over the limit and the model's line off the brief are not shown; fewer than asked: said.
    assert [(c.text, c.written_by) for c in out] == [("Order online, pick it up free", "brief"),
                                                     ("Tea, any day", "model")]
    assert out.note.startswith("only 2 of 3") and out.failed["off the brief"] == 1
    # For a model whose own lines read as nonsense, the brief's lines come first whatever the scorer says.
    shorter_first = dict(samples=2, keep=2, limit=40, scorer=lambda texts: [-len(t) for t in texts],
                         decoding=DecodingOptions(), composed=composed[:1])
    chat = [{"role": "user", "content": CLICK}]
    assert [c.written_by for c in best_of_n(Engine(["Tea, any day"]), chat, **shorter_first)] == ["model", "brief"]
    assert [c.written_by for c in best_of_n(Engine(["Tea, any day"]), chat, prefer_brief=True,
                                            **shorter_first)] == ["brief", "model"]
