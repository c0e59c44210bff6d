import subprocess
import sys

from botkit.database import open_database
from botkit.knowledge.store import KnowledgeBase

INGEST = """
import sys
from pathlib import Path
from botkit.database import open_database
from botkit.embeddings import Embedder
from botkit.knowledge.store import KnowledgeBase
home = Path(sys.argv[1])
KnowledgeBase(open_database(home / "botkit.db"), home / "chroma", Embedder()).ingest(Path(sys.argv[2]))
"""


def test_a_running_bot_sees_documents_ingested_by_another_process(settings, embedder, tmp_path):
    kb = KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)
    assert kb.count() == 0 and kb.search("warranty") == []
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in [("a.md", "Every Zephyr 3000 comes with a seven-year warranty."),
                       ("b.md", "Parcels to Norway take eight days.")]:
        (docs / name).write_text(text)
        subprocess.run([sys.executable, "-c", INGEST, str(settings.home), str(docs / name)], check=True)
        assert kb.search(text, k=1)[0].text == text
    assert kb.count() == 2
