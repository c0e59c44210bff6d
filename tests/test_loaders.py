"""Structure-aware loading: what a quoted answer and its citation are made of, per file format."""

import json

import pytest

from botkit.database import open_database
from botkit.knowledge.chunking import SectionChunker
from botkit.knowledge.loaders import load_sections
from botkit.knowledge.sections import Section
from botkit.knowledge.store import KnowledgeBase

INJECTED = "Orders ship within 2 business days. ![tracking](http://evil.example/pixel.png)"


def units(path) -> list[str]:
    return [u for s in load_sections(path) for u in s.units]


def titled(path) -> dict[str, list[str]]:
    return {s.title: s.units for s in load_sections(path)}


DELIVERY_MD = """# Delivery

We deliver to every address in the UK.

## Options

| Option | Price | Free over | Delivery time |
|---|---|---|---|
| Standard delivery | $4.95 | $60 | 3-5 working days |
| **Express** delivery | `$9.95` | — | next working day |

## Returns

You can return any item within **30 days** for a [full refund](https://shop.example/refunds).
"""


def test_a_markdown_table_row_is_one_self_contained_unit_with_its_headers(tmp_path):
    (tmp_path / "delivery.md").write_text(DELIVERY_MD)
    options = titled(tmp_path / "delivery.md")["Delivery › Options"]
    assert options == [
        "Standard delivery: Price: $4.95, Free over: $60, Delivery time: 3-5 working days",
        "Express delivery: Price: $9.95, Free over: —, Delivery time: next working day",
    ]


def test_a_long_cell_keeps_its_header_unless_it_is_a_sentence(tmp_path):
    # "Closed" before a long list of days is what the days mean; read without it they look like opening days.
    (tmp_path / "centres.md").write_text(
        "# Centres\n\n| Centre | Hours | Closed | Notes |\n|---|---|---|---|\n"
        "| Hill Road | 9am-5pm | Every Wednesday and Thursday, and 25 and 26 December, 1 January "
        "| Vans need a permit, which you can ask for online up to two working days before you come. |\n")
    assert titled(tmp_path / "centres.md")["Centres"] == [
        "Hill Road: Hours: 9am-5pm; Closed: Every Wednesday and Thursday, and 25 and 26 December, 1 January; "
        "Vans need a permit, which you can ask for online up to two working days before you come."]


def test_markdown_sections_titles_and_units_carry_no_markup(tmp_path):
    (tmp_path / "delivery.md").write_text(DELIVERY_MD)
    sections = titled(tmp_path / "delivery.md")
    assert list(sections) == ["Delivery", "Delivery › Options", "Delivery › Returns"]
    assert sections["Delivery › Returns"] == ["You can return any item within 30 days for a full refund."]
    text = " ".join(units(tmp_path / "delivery.md"))
    assert not any(mark in text for mark in ("**", "`", "|", "](", "http", "#"))


def test_a_bold_heading_is_never_split_into_debris(tmp_path):
    (tmp_path / "kettle.md").write_text("# Kettles\n\n**Zephyr 3000 — $129.** Our best-selling kettle boils "
                                        "1.7 liters.\n\n**New**\n\n- A matte black finish.\n")
    sections = titled(tmp_path / "kettle.md")
    assert sections["Kettles"] == ["Zephyr 3000 — $129. Our best-selling kettle boils 1.7 liters."]
    assert sections["Kettles › New"] == ["A matte black finish."]  # a bold-only line reads as a heading


@pytest.mark.parametrize("name, content", [
    ("orders.md", f"# Orders\n\n{INJECTED}\n"),
    ("orders.txt", f"{INJECTED}\n"),
    ("notes.txt", "Orders ship within 2 business days. ![tracking][1]\n\n[1]: http://evil.example/pixel.png\n"),
    ("orders.html", f"<p>{INJECTED}</p><p>Orders ship within 2 business days. <img src='http://evil.example/p.png'>"
                    "<a href='http://evil.example/x'>Track it</a></p>"),
    ("orders.csv", f'question,answer\n"How fast do orders ship?","{INJECTED}"\n'),
])
def test_a_document_cannot_plant_an_image_or_link_in_a_unit(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    found = units(tmp_path / name)
    assert any(u.endswith("Orders ship within 2 business days.") for u in found)
    assert not any("evil.example" in u or "![" in u or "<" in u for u in found), found


def test_html_inline_elements_stay_in_their_sentence_and_page_chrome_is_dropped(tmp_path):
    (tmp_path / "plans.html").write_text(
        "<html><head><title>Plans | Help Centre</title><style>p {}</style></head><body>"
        "<header><a href='/'>Help Centre</a> <a href='/signin'>Sign in</a></header>"
        "<nav>Home &rsaquo; Billing</nav><main><h1>Plans and pricing</h1>"
        "<p>Lumen comes in <strong>Free</strong>, <a href='/plus'>Plus</a> and <em>Pro</em>.<br>"
        "Prices are in <abbr title='US dollars'>USD</abbr>.</p>"
        "<h2>Prices</h2><table><thead><tr><th>Plan</th><th>Billed monthly</th><th>Storage</th></tr></thead>"
        "<tbody><tr><td>Plus</td><td>$4.99 per month</td><td>20 GB</td></tr></tbody></table>"
        "<dl><dt>Refunds</dt><dd>Within <b>14 days</b> of a payment.</dd></dl>"
        "</main><footer>&copy; 2025 Lumen Labs</footer></body></html>")
    assert titled(tmp_path / "plans.html") == {
        "Plans and pricing": ["Lumen comes in Free, Plus and Pro.", "Prices are in USD."],
        "Plans and pricing › Prices": ["Plus: Billed monthly: $4.99 per month, Storage: 20 GB",
                                       "Refunds: Within 14 days of a payment."],
    }


def test_plain_text_headings_bullets_and_wrapped_lines(tmp_path):
    (tmp_path / "safety.txt").write_text(
        "KETTLEBROOK SAFETY NOTICES\n\nRead these notices before using any appliance, and keep\n"
        "them with your manual.\n\n1. GENERAL SAFETY\n\n- Never put a kettle base in a dishwasher.\n"
        "- Unplug an appliance before\n  cleaning it.\n\nDescaling light stays orange\n"
        "Run a descaling cycle, then unplug the kettle for ten seconds.\n")
    assert titled(tmp_path / "safety.txt") == {
        "Kettlebrook Safety Notices": ["Read these notices before using any appliance, and keep them with your "
                                       "manual."],
        "Kettlebrook Safety Notices › General Safety": ["Never put a kettle base in a dishwasher.",
                                                        "Unplug an appliance before cleaning it."],
        "Kettlebrook Safety Notices › General Safety › Descaling light stays orange": [
            "Run a descaling cycle, then unplug the kettle for ten seconds."],
    }


def test_numbered_clauses_lose_their_numbers_and_sit_under_their_numbered_heading(tmp_path):
    (tmp_path / "terms.txt").write_text(
        "STORAGE TERMS\n\n1. Rent\n1.1 Rent is payable every 4 weeks in advance.\n1.2 We may change the rent with\n"
        "    28 days' notice.\n\n2. Access\nThe gate opens at 6am.\n2.1 metres is the widest door.\n"
        "2.5 Gbps ports are blue.\n")
    assert titled(tmp_path / "terms.txt") == {
        "Storage Terms › Rent": ["Rent is payable every 4 weeks in advance.",
                                 "We may change the rent with 28 days' notice."],
        "Storage Terms › Access": ["The gate opens at 6am.", "2.1 metres is the widest door.",
                                   "2.5 Gbps ports are blue."],
    }
    # A line of its own over numbered sections is the version of the terms they belong to.
    (tmp_path / "policy.txt").write_text(
        "VET POLICY\n\nCURRENT POLICY - from 1 February 2026\n\n1. Missed appointments\n"
        "A missed appointment costs £27.50.\n\n"
        "PREVIOUS POLICY - until 31 January 2026\n\n1. Missed appointments\nA missed appointment cost £15.00 then.\n")
    assert titled(tmp_path / "policy.txt") == {
        "Vet Policy › CURRENT POLICY - from 1 February 2026 › Missed appointments": [
            "A missed appointment costs £27.50."],
        "Vet Policy › PREVIOUS POLICY - until 31 January 2026 › Missed appointments": [
            "A missed appointment cost £15.00 then."],
    }


def test_lettered_items_lose_their_letters(tmp_path):
    (tmp_path / "cancel.txt").write_text("CANCELLING\n\nYou may cancel an order:\n(a) within 14 days, free;\n"
                                         "(b) after 14 days, for a fee of 25%.\n(iv) Never after delivery.\n")
    assert titled(tmp_path / "cancel.txt") == {
        "Cancelling": ["You may cancel an order:", "within 14 days, free;", "after 14 days, for a fee of 25%.",
                       "Never after delivery."]}


RETURNS_TXT = """OAKMERE HOME - RETURNS POLICY

Version 3 - CURRENT - effective 1 March 2026

You may return a stock item within 30 days of delivery. Two-person items are collected for a charge of £49.

------------------------------------------------------------

Version 2 - SUPERSEDED - effective 1 February 2024 to 28 February 2026 (kept for orders placed then)

You may return a stock item within 28 days of delivery. Two-person items are collected for a charge of £39.

=== 2023 SCHEME (ARCHIVED) ===
Returns were accepted within 14 days.
"""


def test_a_plain_text_version_set_off_by_a_rule_or_framed_is_a_section_of_its_own(tmp_path):
    (tmp_path / "returns.txt").write_text(RETURNS_TXT)
    sections = titled(tmp_path / "returns.txt")
    old = next(units for title, units in sections.items() if "SUPERSEDED" in title)
    assert any("28 days" in u for u in old) and not any("30 days" in u for u in old)
    current = sections["Oakmere Home - Returns Policy"]
    assert any("30 days" in u for u in current) and not any("28 days" in u for u in current)
    archived = next(units for title, units in sections.items() if title.endswith("2023 SCHEME (ARCHIVED)"))
    assert archived == ["Returns were accepted within 14 days."]


def test_an_answer_comes_from_the_current_version_not_the_superseded_one(tiny_bot, tmp_path):
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "returns.txt").write_text(RETURNS_TXT)
    tiny_bot.knowledge.ingest(tmp_path / "kb")
    reply = tiny_bot.respond("How many days do I have to return a stock item?")
    assert "30 days" in reply.text and "28 days" not in reply.text, reply.text


def test_word_documents_give_headings_paragraphs_lists_and_table_rows(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Warranty", level=1)
    document.add_paragraph("Every Zephyr 3000 comes with a seven-year warranty.")
    document.add_heading("Spare parts", level=2)
    document.add_paragraph("Lids are sold separately.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells + table.rows[1].cells, ["Part", "Price", "Lid", "$12"]):
        cell.text = text
    bold = document.add_paragraph().add_run("Returns")
    bold.bold = True
    document.add_paragraph("Send parts back within 30 days.")
    document.save(tmp_path / "warranty.docx")
    assert titled(tmp_path / "warranty.docx") == {
        "Warranty": ["Every Zephyr 3000 comes with a seven-year warranty."],
        "Warranty › Spare parts": ["Lids are sold separately.", "Lid: Price: $12"],
        "Warranty › Spare parts › Returns": ["Send parts back within 30 days."],
    }


def test_excel_sheets_become_sections_of_row_sentences(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Kettles"
    book.active.append(["Model", "Capacity", "Price"])
    book.active.append(["Zephyr Mini", "0.8 liters", 79.0])
    faq = book.create_sheet("Grinders")
    faq.append(["Model", "Grind settings"])
    faq.append(["Millrace Burr", 40])
    book.save(tmp_path / "price-list.xlsx")
    assert titled(tmp_path / "price-list.xlsx") == {
        "Price list › Kettles": ["Zephyr Mini: Capacity: 0.8 liters, Price: 79"],
        "Price list › Grinders": ["Millrace Burr: Grind settings: 40"],
    }


def test_a_sheet_with_a_title_above_its_table_and_units_in_its_headers(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Fees"
    for row in (["Harbour Vets price list, from 1 March"], [],
                ["Treatment", "Fee (€)", "Duration (minutes)", "Price ($)"],
                ["Nail clip", 12, 10, None], ["Dental scale", 180.5, 45, None], ["Microchip", None, None, 30]):
        sheet.append(row)
    book.save(tmp_path / "fees.xlsx")
    assert titled(tmp_path / "fees.xlsx") == {"Fees": [
        "Harbour Vets price list, from 1 March",
        "Treatment: Nail clip, Dental scale and Microchip",
        "Nail clip: Fee: €12, Duration: 10 minutes",
        "Dental scale: Fee: €180.5, Duration: 45 minutes",
        "Microchip: Price: $30",
    ]}


def test_a_table_of_three_rows_or_more_is_also_listed_in_one_unit(tmp_path, embedder):
    from botkit.evidence import select_evidence
    from botkit.knowledge.store import Chunk

    (tmp_path / "plans.html").write_text(
        "<h1>Members</h1><h2>Membership tiers</h2><table><tr><th>Tier</th><th>Guests</th><th>Classes</th></tr>"
        "<tr><td>Bronze</td><td>0</td><td>4 a month</td></tr><tr><td>Silver</td><td>1</td><td>8 a month</td></tr>"
        "<tr><td>Gold</td><td>2</td><td>Unlimited</td></tr></table>"
        "<h2>Prices</h2><table><tr><th>Year</th><th>Fee</th></tr><tr><td>2024</td><td>$90</td></tr>"
        "<tr><td>2025</td><td>$95</td></tr><tr><td>2026</td><td>$99</td></tr></table>")
    sections = titled(tmp_path / "plans.html")
    assert sections["Members › Membership tiers"][0] == "Tier: Bronze, Silver and Gold"
    assert not any(": 2024, " in unit for unit in sections["Members › Prices"])  # figures are no list of names
    # A question for the whole list is answered by the list, not by one row of it.
    title = "Members › Membership tiers"
    tiers = Chunk("t", "\n".join(sections[title]), "/kb/plans.html", title)
    assert select_evidence("What membership tiers are there?", [tiers], embedder)[0].sentence.startswith("Tier:")


def test_a_csv_without_question_and_answer_columns_is_a_table(tmp_path):
    (tmp_path / "stores.csv").write_text("Shop,Opens,Closes\nBath,9 a.m.,6 p.m.\n")
    assert titled(tmp_path / "stores.csv") == {"Stores": ["Bath: Opens: 9 a.m., Closes: 6 p.m."]}


def test_a_plugin_loader_returning_plain_strings_still_gets_structure(tmp_path, monkeypatch):
    from botkit import hookimpl
    from botkit.plugins import plugin_manager

    class Notes:
        @hookimpl
        def register_document_loaders(self, register):
            register(lambda path: ["OPENING HOURS\n\nThe Bath shop opens at 9 a.m.",
                                   "Q: Parking?\nA: Behind the shop."], ".notes")

    (tmp_path / "bath.notes").write_text("anything")
    plugin_manager().register(Notes(), "notes-plugin")
    try:
        sections = load_sections(tmp_path / "bath.notes")
    finally:
        plugin_manager().unregister(name="notes-plugin")
    assert [(s.title, s.units) for s in sections] == [
        ("Opening Hours", ["The Bath shop opens at 9 a.m."]),
        ("Bath", ["Q: Parking?\nA: Behind the shop."]),
    ]


def test_chunks_keep_whole_units_of_one_section_one_per_line(embedder):
    sentences = [f"The model K{i} weighs {i} kilograms and ships in a box of {i + 3} parts." for i in range(30)]
    sections = [Section(("Catalogue", "Weights"), [" ".join(sentences)]),
                Section(("Catalogue", "Colours"), ["Every model comes in red.", "Blue costs $5 more."])]
    chunks = SectionChunker(embedder.tokenizer, chunk_tokens=60, overlap=20).chunks(sections)
    weights = [c for c in chunks if c.title == "Catalogue › Weights"]
    assert len(weights) > 3 and all(len(embedder.tokenizer(c.text)["input_ids"]) <= 62 for c in weights)
    for chunk in weights:  # a run of whole sentences: cut only between two of them
        assert chunk.text in " ".join(sentences)
        assert chunk.text.startswith("The model K") and chunk.text.endswith("parts.")
    assert all(any(s in c.text for c in weights) for s in sentences)
    assert [(c.title, c.text) for c in chunks if c.title != "Catalogue › Weights"] == [
        ("Catalogue › Colours", "Every model comes in red.\nBlue costs $5 more.")]


@pytest.fixture
def kb(settings, embedder):
    return KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)


def test_citations_carry_the_section_path_and_qa_rows_the_file_title(kb, tmp_path):
    (tmp_path / "delivery.md").write_text(DELIVERY_MD)
    rows = [{"question": "Can I toast bagels in a Brookside toaster?", "answer": "Both Brookside toasters have a "
             "Bagel button."}, {"question": "Is the travel pouch washable?", "answer": "The travel pouch should be "
             "wiped clean rather than machine washed."}]
    (tmp_path / "product-questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    kb.ingest(tmp_path)
    express = kb.search("How much is express delivery?", k=1)[0]
    assert express.title == "Delivery › Options"
    assert "Express delivery: Price: $9.95, Free over: —, Delivery time: next working day" in express.text.splitlines()
    pouch = kb.search("Can I put the travel pouch in the washing machine?", k=1)[0]
    assert pouch.title == "Product questions"
    assert pouch.text == ("Q: Is the travel pouch washable?\n"
                          "A: The travel pouch should be wiped clean rather than machine washed.")
