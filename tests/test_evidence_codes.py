"""The version or code a question names picks the sentence that names it, not the one beside it."""

from botkit import evidence as evidence_module
from botkit.evidence import select_evidence
from botkit.knowledge.store import Chunk

ARCHIVE = Chunk("a", "Version 3 is no longer developed. Tidy Notes 3.8 is the last version 3 release; it came out "
                     "in spring and receives security fixes until 30 June 2026.\nTidy Notes updates itself on desktop; "
                     "on phones, updates come through the app stores.",
                "/kb/releases-3.md", "Tidy Notes release notes: version 3 (archive)", 0.5)
RELEASES = Chunk("r", "3.8: Released: 2 May 2024, Security fixes until: 30 June 2026\n"
                      "4.0: Released: 9 September 2025, Security fixes until: 1 March 2027",
                 "/kb/releases.html", "Tidy Notes support dates", 0.4)


def test_the_version_asked_about_is_quoted_not_its_neighbour(embedder, monkeypatch):
    question = "When was Tidy Notes 4.0 released?"
    top = select_evidence(question, [ARCHIVE, RELEASES], embedder)[0].sentence
    assert top.startswith("4.0: Released: 9 September 2025")
    monkeypatch.setattr(evidence_module, "CODE_WEIGHT", 0.0)  # the rule this test is about, switched off
    # with the rules that pick it too here (a date for "when", the archive ranked lower), to show this one alone does
    monkeypatch.setattr(evidence_module, "TYPE_WEIGHT", 0.0)
    monkeypatch.setattr(evidence_module, "PAST_WEIGHT", 0.0)
    assert not select_evidence(question, [ARCHIVE, RELEASES], embedder)[0].sentence.startswith("4.0")
