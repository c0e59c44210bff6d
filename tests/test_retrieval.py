from botkit.database import open_database
from botkit.knowledge.lexical import LexicalIndex, reciprocal_rank_fusion, tokens
from botkit.knowledge.store import KnowledgeBase

CODES = {"E-101": "Storage full. The account has used all the storage of its plan.",
         "E-204": "Device limit reached. Sign out of a device you no longer use.",
         "E-301": "Conflict copy created. The same note was changed on two devices at once.",
         "E-408": "Sync timed out. The app could not reach the sync server.",
         "E-512": "Server error. Our servers had a problem; try again in a few minutes.",
         "E-613": "Attachment too large. The file is bigger than the plan allows."}


def _kb(settings, embedder) -> KnowledgeBase:
    return KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)


def _error_codes(folder):
    folder.mkdir()
    (folder / "errors.md").write_text("# Error codes\n\n" + "\n\n".join(f"## {c}\n\n{t}" for c, t in CODES.items()))
    return folder


def test_an_exact_code_finds_its_section_where_meaning_alone_picks_a_neighbour(settings, embedder, tmp_path):
    kb = _kb(settings, embedder)
    kb.ingest(_error_codes(tmp_path / "docs"))
    # MiniLM alone ranks E-512 ("Server error") first for this question; the code itself decides.
    assert kb.search("What does error E-408 mean?", k=1)[0].title.endswith("E-408")
    assert kb.search("I get E-613 when I attach a video", k=1)[0].title.endswith("E-613")


def test_the_lexical_index_follows_the_knowledge_base(settings, embedder, tmp_path):
    kb = _kb(settings, embedder)
    docs = _error_codes(tmp_path / "docs")
    kb.ingest(docs)
    assert all("Zorblax" not in c.text for c in kb.search("Zorblax", k=3))
    (docs / "zorblax.md").write_text("# Zorblax\n\nThe Zorblax add-on imports notes from floppy disks.\n")
    kb.ingest(docs)
    assert "Zorblax" in kb.search("zorblax", k=1)[0].text
    (docs / "zorblax.md").unlink()
    kb.ingest(docs)
    assert all("Zorblax" not in c.text for c in kb.search("zorblax", k=3))


def test_another_process_ingesting_is_seen(settings, embedder, tmp_path):
    reader = _kb(settings, embedder)
    reader.ingest(_error_codes(tmp_path / "docs"))
    reader.search("storage", k=1)  # builds its index
    other = tmp_path / "other"
    other.mkdir()
    (other / "kiosk.md").write_text("# Kiosk mode\n\nKiosk mode locks the app to one notebook for shared tablets.\n")
    _kb(settings, embedder).ingest(other)  # a second KnowledgeBase on the same home, like `botkit ingest`
    assert "Kiosk" in reader.search("kiosk", k=1)[0].text


def test_scores_stay_cosines_and_the_relevance_floor_still_applies(settings, embedder, tmp_path):
    kb = _kb(settings, embedder)
    kb.ingest(_error_codes(tmp_path / "docs"))
    found = kb.search("What does error E-408 mean?", k=3)
    assert all(0 < c.score <= 1 for c in found)
    assert kb.search("Who won the football world cup in 1966?", k=3, min_relevance=0.5) == []


def test_tokens_keep_figures_whole_and_drop_stopwords():
    assert tokens("Does the Zephyr 3000 hold 1.7 liters?") == ["zephyr", "3000", "hold", "1.7", "liter"]


def test_lexical_ranks_a_chunk_by_its_best_line():
    index = LexicalIndex(["a", "b"], ["Safety", "Care"],
                         ["Keep the cord dry.\nNever put the base in a dishwasher.",
                          "The dishwasher is fine for the lid, the dishwasher top rack, the dishwasher basket."])
    assert index.search("can the base go in the dishwasher", 2)[0] == "a"
    assert index.search("quantum chromodynamics", 2) == []


def test_fusion_prefers_what_both_rankings_agree_on():
    assert reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "a"], ["b"]])[0] == "b"


def test_a_ranking_at_half_weight_counts_half():
    assert reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[1.0, 0.5])[0] == "a"
    assert reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[0.5, 1.0])[0] == "b"


def test_a_long_chunk_counts_when_one_of_its_sentences_answers(settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "weddings.md").write_text(
        "# Weddings\n\n## Wedding flowers\n\n"
        "Our wedding team designs bridal bouquets, buttonholes, table centrepieces and arches in seasonal colours. "
        "We visit the venue before the day to measure the tables and check the light. "
        "Peonies are only available from May to July, and we suggest garden roses instead outside those months. "
        "Schools may settle their bill by bank transfer within 30 days of the event. "
        "On the day, two florists set everything up three hours before the ceremony.\n")
    (docs / "shop.md").write_text("# Shop\n\n## Opening hours\n\nThe shop on Mill Lane is open Tuesday to Saturday.\n")
    kb = _kb(settings, embedder)
    kb.ingest(docs)
    # The paragraph as a whole is far from the question (cosine ~0.01); its one sentence on paying is not.
    found = kb.search("Can a school pay by bank transfer?", k=2, min_relevance=0.3)
    assert [c.title for c in found][:1] == ["Weddings › Wedding flowers"]
    assert found[0].score >= 0.4
    assert kb.search("Who won the football world cup in 1966?", k=2, min_relevance=0.3) == []
