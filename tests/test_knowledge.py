import json

import pytest

from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.knowledge.store import KnowledgeBase


@pytest.fixture
def kb(settings, embedder):
    return KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)


def _pdf(path, text):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "warranty.md").write_text("# Warranty\n\nEvery Zephyr 3000 comes with a seven-year warranty.\n")
    (d / "hours.txt").write_text("Our Bath shop opens at 9 a.m. every weekday.\n")
    (d / "page.html").write_text("<html><head><script>var x=1;</script></head><body><h1>Delivery</h1>"
                                 "<p>Parcels to Norway take eight days.</p></body></html>")
    (d / "faq.csv").write_text('question,answer\n"Do you ship to Mars?","No, we only ship on Earth."\n')
    pair = {"question": "Is the lid dishwasher safe?", "answer": "Yes, the lid is dishwasher safe."}
    (d / "more.jsonl").write_text(json.dumps(pair) + "\n")
    _pdf(d / "manual.pdf", "The descaling light turns orange after 120 boils.")
    return d


def test_ingests_every_supported_format_and_finds_each(kb, docs):
    report = kb.ingest(docs)
    assert len(report.added) == 6 and not report.errors
    for question, needle, source in [
        ("How long is the Zephyr 3000 warranty?", "seven-year", "warranty.md"),
        ("When does the Bath shop open?", "9 a.m.", "hours.txt"),
        ("How long does delivery to Norway take?", "eight days", "page.html"),
        ("Can you ship to Mars?", "only ship on Earth", "faq.csv"),
        ("Can the lid go in the dishwasher?", "dishwasher safe", "more.jsonl"),
        ("When does the descaling light come on?", "120 boils", "manual.pdf"),
    ]:
        top = kb.search(question, k=1)[0]
        assert needle in top.text and top.source == str(docs / source), question
    assert "var x" not in " ".join(c.text for c in kb.search("Delivery Norway", k=6))


def test_reingest_is_idempotent(kb, docs):
    kb.ingest(docs)
    count = kb.count()
    again = kb.ingest(docs)
    assert len(again.unchanged) == 6 and not again.added and not again.updated
    assert kb.count() == count


def test_changed_file_is_replaced_and_deleted_file_removed(kb, docs):
    kb.ingest(docs)
    (docs / "warranty.md").write_text("# Warranty\n\nEvery Zephyr 3000 comes with a ten-year warranty.\n")
    (docs / "hours.txt").unlink()
    report = kb.ingest(docs)
    assert report.updated == [str(docs / "warranty.md")]
    assert report.removed == [str(docs / "hours.txt")]
    texts = " ".join(c.text for c in kb.search("Zephyr warranty", k=10))
    assert "ten-year" in texts and "seven-year" not in texts
    assert all(c.source != str(docs / "hours.txt") for c in kb.search("Bath shop opening", k=10))


def test_bad_files_are_reported_and_the_rest_ingested(kb, docs):
    (docs / "empty.md").write_text("")
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "bad.jsonl").write_text('{"question": "a", "answer": "b"}\nnot json\n')
    report = kb.ingest(docs)
    assert len(report.added) == 6
    problems = "\n".join(report.errors)
    assert "empty.md: file is empty" in problems
    assert "blob.txt: looks like a binary file" in problems
    assert "broken.pdf: unreadable PDF" in problems
    assert "bad.jsonl: malformed JSON on line(s) 2" in problems
    assert all("\n" not in e for e in report.errors)


def test_a_failed_update_keeps_the_old_chunks(kb, docs):
    kb.ingest(docs)
    (docs / "more.jsonl").write_text("oops, not json\n")
    report = kb.ingest(docs)
    assert report.errors and "dishwasher safe" in kb.search("dishwasher lid", k=1)[0].text


def test_single_bad_file_and_missing_path_raise(kb, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(BotkitError, match="file is empty"):
        kb.ingest(empty)
    with pytest.raises(BotkitError, match="no such file or folder"):
        kb.ingest(tmp_path / "missing")
    with pytest.raises(BotkitError, match="unsupported file type"):
        (tmp_path / "x.rtf").write_text("hi")
        kb.ingest(tmp_path / "x.rtf")
    with pytest.raises(BotkitError, match="x.docx: unreadable Word document"):
        (tmp_path / "x.docx").write_text("hi")
        kb.ingest(tmp_path / "x.docx")


def test_relevance_threshold_filters_unrelated_chunks(kb, docs):
    kb.ingest(docs)
    assert kb.search("Who won the football world cup in 1966?", k=4, min_relevance=0.3) == []


def test_long_documents_are_chunked_with_overlap(kb, tmp_path):
    sentences = [f"Fact number {i} is that the model K{i} weighs {i} kilograms." for i in range(60)]
    (tmp_path / "long.md").write_text("# Catalogue\n\n" + " ".join(sentences))
    kb.ingest(tmp_path / "long.md")
    chunks = kb.collection.get(include=["documents"])["documents"]
    assert len(chunks) > 3
    assert all(len(kb.embedder.tokenizer(c, add_special_tokens=False)["input_ids"]) <= 160 for c in chunks)
    # Overlap: consecutive chunks share text, so a fact on a boundary is never cut in half.
    assert any(sum(s in c for c in chunks) >= 2 for s in sentences)
    assert all(any(s in c for c in chunks) for s in sentences)


def test_a_plugin_adds_a_file_type_and_replaces_a_builtin_loader(kb, tmp_path):
    from botkit import hookimpl
    from botkit.plugins import plugin_manager

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "kettle.rst").write_text("The Zephyr Mini holds 0.8 liters.\n")
    (folder / "shop.txt").write_text("IGNORE THIS LINE\nThe Bath shop closes at 6 p.m.\n")

    class NotesPlugin:
        @hookimpl
        def register_document_loaders(self, register):
            register(lambda path: [path.read_text()], ".rst")
            register(lambda path: [line for line in path.read_text().splitlines() if "IGNORE" not in line], ".txt")

    with pytest.raises(BotkitError, match=r"unsupported file type '.rst' \(supported: .csv, .docx, .htm"):
        kb.ingest(folder / "kettle.rst")
    plugin_manager().register(NotesPlugin(), "notes")
    try:
        assert len(kb.ingest(folder).added) == 2
    finally:
        plugin_manager().unregister(name="notes")
    assert "0.8 liters" in kb.search("How much water does the Zephyr Mini hold?", k=1)[0].text
    assert all("IGNORE" not in c.text for c in kb.search("When does the Bath shop close?", k=2))


def test_a_word_that_stems_to_a_stop_word_is_not_unknown(kb, tmp_path):
    # "faster" stems to "fast", a stop word the vocabulary never holds: the question was declined though
    # the shipping page answers it.
    from botkit.knowledge.terms import unknown_share

    doc = tmp_path / "shipping.md"
    doc.write_text("# Shipping\n\nExpress delivery costs $14.95 and takes 1 to 2 business days.\n")
    kb.ingest(doc)
    assert unknown_share("How much do you charge for faster delivery?", kb.vocabulary()) == 0


def test_a_table_row_with_one_value_in_every_column_says_it_once(kb, tmp_path):
    # "Web app: Free: Not available, Plus, Pro and Team: Not available" read as if Free were the exception.
    doc = tmp_path / "offline.html"
    doc.write_text("<h1>Offline</h1><table><tr><th>Where</th><th>Free</th><th>Plus, Pro and Team</th></tr>"
                   "<tr><td>Web app</td><td>Not available</td><td>Not available</td></tr>"
                   "<tr><td>Phones</td><td>50 recent notes</td><td>Any notebook</td></tr></table>")
    kb.ingest(doc)
    text = kb.search("Can I work offline in the web app?", 1)[0].text
    assert "Web app: Not available (Free; Plus, Pro and Team)" in text.splitlines()
    assert "Phones: Free: 50 recent notes, Plus, Pro and Team: Any notebook" in text.splitlines()
