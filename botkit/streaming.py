"""Grounded answers checked sentence by sentence as the model writes them: each sentence is checked
against the sources once it is complete and only then sent; when no sentence passes, the quote of the
sources is sent instead. Streaming and batched answers go through the same steps, so they agree."""

from __future__ import annotations

import re
from collections.abc import Callable

from botkit.evidence import Evidence
from botkit.grounding import (
    DRAFT_SENTENCE_END,
    Check,
    check_answer,
    clean_sentence,
    quote_answer,
    strip_citations,
)
from botkit.plaintext import shown_text, urls_in

_PARAGRAPH_END = re.compile(r"\n\s*\n")
_OPEN_CITATION = re.compile(r"\[\d*$")  # "[1" may still become "[12]": wait for the rest
_BARE_YES_NO = re.compile(r"^(?:yes|no)\b[\W_]*$", re.I)


class CheckedAnswer:
    """Feed it the draft piece by piece (`feed`), then `finish`; both return the checked text to send.

    The answer is the draft's first paragraph, cleaned sentence by sentence (`clean_sentence`), at
    most `max_sentences` long. A sentence is sent once the answer up to it passes `check_answer`.
    A failure more text could cure (the key figure still to come) holds the sentence back for the
    next; any other failure ends the answer there. `done` says no more draft is wanted (the caller
    may stop generating). Sentences are checked and sent as plain text (`shown_text`): no markup, no
    image, no link the sources do not carry. A bare "Yes."/"No." waits to be checked with the
    sentence after it; `private` (the system prompt) is never repeated."""

    def __init__(self, question: str, evidence: list[Evidence], embedder, number_of: Callable, *,
                 allowed: str = "", max_sentences: int = 1, private: str = ""):
        self.question, self.evidence, self.embedder = question, evidence, embedder
        self.number_of, self.allowed, self.max_sentences = number_of, allowed, max_sentences
        self.private = private
        self.urls = urls_in(" ".join(e.chunk.text for e in evidence))
        self._lead = ""  # a bare "Yes."/"No." that waits for its sentence
        self.draft = ""  # everything the model wrote (until `done`)
        self.sent: list[str] = []  # checked sentences, already sent
        self.check = Check(False, "empty answer", incomplete=True)  # the check of the answer so far
        self.dropped = ""  # why a later sentence was left out of an answer that passed
        self.done = False
        self.used_tail = False  # the answer ends with text the model had not finished (cut by max tokens)
        self.text = ""  # the whole answer, once finished
        self.grounding = ""  # generated | quoted, once finished
        self._held: list[str] = []  # sentences waiting for the next one to pass together
        self._rest = ""  # draft text after the last complete sentence

    def feed(self, piece: str) -> list[str]:
        """Take more of the draft; the checked text that may be sent now."""
        if self.done:
            return []
        self.draft += piece
        self._rest = (self._rest + piece).lstrip()
        paragraph = _PARAGRAPH_END.search(self._rest)
        # Complete citations go first so "pounds.[1] It" still splits after "pounds.".
        text = strip_citations(self._rest[:paragraph.start()] if paragraph else self._rest)
        *complete, self._rest = DRAFT_SENTENCE_END.split(text)
        if paragraph:  # the answer is the first paragraph: its last sentence is complete, the rest unused
            complete.append(_OPEN_CITATION.sub("", self._rest))
            self._rest = ""
        out: list[str] = []
        for sentence in complete:
            if self.done:
                break
            out += self._take(sentence, tail=False)
        self.done = self.done or bool(paragraph)
        return out

    def finish(self) -> list[str]:
        """The draft is over (or no longer wanted): the last checked text to send, citation included;
        the quote of the sources when nothing passed."""
        out = [] if self.done else self._take(_OPEN_CITATION.sub("", self._rest), tail=True)
        self.done = True
        if self.sent:
            citation = f" [{self.number_of(self.evidence[0].chunk)}]"  # the check anchors on the best source
            out.append(citation)
            self.grounding = "generated"
            self.text = " ".join(self.sent) + citation
        else:
            quote = quote_answer(self.evidence, self.number_of, self.question, self.allowed)
            out.append(quote)
            self.grounding, self.text = "quoted", quote
        return out

    @property
    def reason(self) -> str:
        """Why the draft was kept (and a later sentence dropped) or replaced by the quote."""
        if self.sent:
            return f"supported; a later sentence left out: {self.dropped}" if self.dropped else self.check.reason
        return self.check.reason

    def _take(self, raw: str, tail: bool) -> list[str]:
        sentence = shown_text(clean_sentence(raw), self.urls)
        if self._lead and sentence:
            sentence, self._lead = f"{self._lead} {sentence}", ""
        known = {s.lower() for s in (*self.sent, *self._held)}
        if not sentence or sentence.lower() in known:
            return []
        if _BARE_YES_NO.match(sentence) and not tail and not self.sent:
            self._lead = sentence  # "Yes." alone says nothing checkable: check it with what follows
            return []
        answer = [*self.sent, *self._held, sentence]
        check = check_answer(" ".join(answer), self.question, self.evidence, self.embedder, allowed=self.allowed,
                             private=self.private)
        full = len(answer) >= self.max_sentences
        if check.supported:
            new = [*self._held, sentence]
            out = [(" " if self.sent else "") + " ".join(new)]
            self.sent += new
            self._held, self.check, self.used_tail = [], check, tail
            self.done = self.done or full
            return out
        if check.incomplete and not full and not tail:
            self._held.append(sentence)
            if not self.sent:
                self.check = check
            return []
        # Nothing after this sentence can make it pass: the answer ends here.
        self._held, self.done = [], True
        if self.sent:
            self.dropped = check.reason
        else:
            self.check = check
        return []
