"""The dialogue core: message -> retrieve -> select evidence and few-shot examples -> fit the token
budget -> generate (streaming) -> check against the sources -> Reply, persisted in the session.
Plugin tasks run through `Bot.run_task`; replies are logged where the bot's `ReplyLog` says."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from botkit.answerability import answerable_anyway
from botkit.api import settings_from
from botkit.composing import compose, question_parts
from botkit.config import Settings, load_settings
from botkit.database import open_database
from botkit.decoding import DecodingOptions
from botkit.draft_ranking import answer_scorer, best_draft, draft_options
from botkit.embeddings import Embedder
from botkit.errors import BotkitError, validation_message
from botkit.evidence import select_evidence
from botkit.followups import follows_up, merged_query
from botkit.grounding import cited_numbers, pulls_away, talks_to_assistant
from botkit.knowledge.names import true_cased
from botkit.knowledge.store import KnowledgeBase
from botkit.knowledge.terms import (
    asked_clause,
    asking_part,
    respelled,
    typed,
    unknown_names,
    unknown_share,
    unknown_words,
)
from botkit.measures import unmeasured
from botkit.models.engine import Generation
from botkit.models.loading import load_engine
from botkit.plugins import get_task, get_tasks, open_reply_log
from botkit.prompting import budget
from botkit.prompting.brand import chosen_brand, load_brand, sample_brand_dir
from botkit.prompting.fewshot import FewShotExamples, added_examples, added_stamp, load_examples
from botkit.quantities import unstated
from botkit.replies import Citation, Draft, Reply, ReplyLog, TaskResult
from botkit.routing import IntentRouter
from botkit.sessions import SessionStore
from botkit.streaming import CheckedAnswer
from botkit.tasks.model import model_calls
from botkit.usage import metered

# The evidence score (`botkit.evidence.select_evidence`) a question with a word no document uses needs: measured
# on four knowledge bases, such questions answered right scored 0.56 and up, those the sources cannot answer
# 0.38-0.46 (and up to 0.73: this catches only the clear ones).
PARAPHRASE_SCORE = 0.5
# The evidence score at which a source answers though a word of the question is the customer's own and pulls away
# from it ("what time is brekkie served till on a sunday at the quay house?": the place, the day and a time all
# found, 1.09): of the out-of-scope questions that gate declined on twelve knowledge bases, and of 328 questions
# asked of the wrong sample, none scored above 0.82.
SURE_SCORE = 0.85
EMPTY_KB = "My knowledge base is empty, so I can't answer from your documents yet: add some with `botkit ingest PATH`."



class Bot:
    """A brand chatbot over one BOTKIT_HOME. The model and embeddings load on first use."""

    def __init__(self, settings: Settings | None = None, engine=None, embedder=None, reply_log: ReplyLog | None = None):
        self.settings = settings or load_settings()
        # Logged replies get an id (Reply.id) that feedback (thumbs, preferences) can name.
        self.reply_log = reply_log
        self._engine = engine
        self._embedder = embedder
        self.db = open_database(self.settings.database_path)
        self.sessions = SessionStore(self.db)
        self.settings = self.settings.model_copy(update={"brand": chosen_brand(self.settings, self.db)})
        self.brand = load_brand(self.settings.brand)
        # Concurrent answers (the HTTP server) take turns for the database, retrieval and checks;
        # their generations run side by side (the server batches them).
        self._turns = threading.RLock()

    @classmethod
    def from_config(cls, config=None, *, engine=None, embedder=None) -> Bot:
        """A bot from a config YAML path, a dict of settings or `Settings` (None: BOTKIT_HOME / env).
        Its replies are logged (in the ranking store, through the `open_reply_log` hook), so
        `record_feedback(reply.id, ...)` works."""
        bot = cls(settings_from(config), engine=engine, embedder=embedder)
        bot.reply_log = open_reply_log(bot)
        return bot

    def run_task(self, plugin: str, text: str, **options) -> TaskResult:
        """Run a plugin's task on `text` with this bot's model: how chat, the CLI, the HTTP API and
        Python all run tasks. Logged (with an id) when the bot has a reply log."""
        task = get_task(plugin)
        parsed = task.parse_options(options)
        text = (text or "").strip()
        if not text:
            raise BotkitError("the text is empty")
        with metered() as usage, model_calls() as call:
            output = task.build(self, parsed).invoke(text)
        result = TaskResult(plugin, output, task.format(output), task.engine(self).name, usage,
                            task.citations(output), engine_messages=call.messages or [], model_output=call.output,
                            ranker=getattr(output, "ranker", ""))
        if self.reply_log is not None:
            result.id = self.reply_log.log_reply(text, result, decoding=options or None)
        return result

    def record_feedback(self, response_id: str, rating: int | None = None, *, other_id: str | None = None,
                        verdict: str | None = None, reason: str = "", annotator: str = "api") -> dict:
        """Thumbs (`rating` 1 or -1) on a logged reply, or a preference between it (a) and `other_id`
        (b) with `verdict` a | b | tie | both-bad. Lands where the bot logs its replies."""
        if self.reply_log is None:
            raise BotkitError("this bot does not log its replies, so there is nothing to give feedback on: "
                              "use Bot.from_config(...)")
        return self.reply_log.record_feedback(response_id, rating, other_id=other_id, verdict=verdict,
                                              reason=reason, annotator=annotator)

    @property
    def engine(self):
        if self._engine is None:
            s = self.settings
            self._engine = load_engine(s.model, s.cache_dir, adapter=s.adapter, device=s.device)
        return self._engine

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    @functools.cached_property
    def knowledge(self) -> KnowledgeBase:
        s = self.settings
        return KnowledgeBase(self.db, s.chroma_path, self.embedder, s.chunk_tokens, s.chunk_overlap)

    @property
    def fewshot(self) -> FewShotExamples:
        """Examples from `fewshot`, else beside the brand profile (none there is fine), else the sample's;
        then those added from agreed rankings, so a new one reaches the very next prompt."""
        stamp = added_stamp(self.db)
        if getattr(self, "_fewshot", (None,))[0] != stamp:
            s = self.settings
            if s.fewshot:
                examples = load_examples(s.fewshot)
            elif s.brand:
                path = (s.brand if s.brand.is_dir() else s.brand.parent) / "fewshot.yaml"
                examples = load_examples(path) if path.exists() else []
            else:
                examples = load_examples(sample_brand_dir() / "fewshot.yaml")
            added = [e for e in added_examples(self.db) if e not in examples]
            self._fewshot = (stamp, FewShotExamples(examples + added, self.embedder, s.fewshot_k, s.fewshot_selection,
                                                    pinned=added[::-1]))
        return self._fewshot[1]

    @functools.cached_property
    def router(self) -> IntentRouter:
        questions = [e["input"] for e in self.fewshot.examples if e["input"].rstrip().endswith("?")]
        return IntentRouter(get_tasks(), self.embedder, self.settings.route_threshold, questions)

    @property
    def token_limit(self) -> int:
        window = self.settings.context_window or self.engine.context_window
        return window - self.settings.decoding.max_new_tokens

    def respond(self, message: str, session_id: str | None = None, **decoding) -> Reply:
        """Answer `message` in session `session_id` (a new session when None)."""
        reply = None
        for item in self.stream(message, session_id, **decoding):
            if isinstance(item, Reply):
                reply = item
        return reply

    def stream(self, message: str, session_id: str | None = None, *, system: str = "", drafts: bool = False,
               **decoding) -> Iterator[str | Draft | Reply]:
        """Yield the answer as it passes the grounding check, sentence by sentence, then the `Reply`.

        Every streamed piece is final: a sentence is sent once it is checked against the sources, and
        when the model's draft cannot be kept the quote of the sources streams instead, so the pieces
        add up to `Reply.text`; with `answer_candidates` over 1 the best checked draft comes as one
        piece (`botkit.draft_ranking`). `system` adds instructions after the brand's system prompt;
        `drafts=True` also yields the model's unchecked words as `Draft` pieces.
        """
        message = (message or "").strip()
        if not message:
            raise BotkitError("the message is empty")
        options = self._decoding(decoding)
        with self._turns:
            budget.ensure_fits(budget.PromptParts(self._system_prompt(system), message), self.engine.count_tokens,
                               self.token_limit)
            session_id = self.sessions.ensure(session_id, title=message)
            history = [{"role": m.role, "content": m.content} for m in self.sessions.history(session_id)]
            route = self.router.route(message)
        if route:
            reply = self._run_plugin(route, session_id)
        else:
            reply = yield from self._answer(message, history, options, session_id, system, drafts)
        with self._turns:
            if self.reply_log is not None and reply.id is None:  # a plugin's reply was logged by run_task
                reply.id = self.reply_log.log_reply(message, reply, decoding=options.model_dump(), history=history)
            self.sessions.append(session_id, "user", message)
            meta = reply.as_dict()
            meta.pop("text"), meta.pop("answer"), meta.pop("engine_messages")  # the chat is in the ranking store
            self.sessions.append(session_id, "assistant", reply.text, meta)
        yield reply

    def start_session(self, title: str, history: list[dict] = ()) -> str:
        """A new stored session seeded with earlier `{role, content}` turns (an OpenAI-style chat that
        arrives whole), written under the turn lock: the store's connection is shared between threads."""
        with self._turns:
            session_id = self.sessions.create(title=title)
            for turn in history:
                self.sessions.append(session_id, turn["role"], turn["content"])
        return session_id

    def answer(self, question: str, **decoding) -> Reply:
        """A grounded answer to `question` alone: no routing, no session history, nothing logged.
        What plugins use (e.g. a support reply answering each question of an email)."""
        return self.answer_batch([question], **decoding)[0]

    def answer_batch(self, questions: list[str], **decoding) -> list[Reply]:
        """`answer` for many questions with one batched generate call (candidate generation); with
        `answer_candidates` over 1, that call samples each question's drafts (`_best_of`)."""
        if any(not (q or "").strip() for q in questions):
            raise BotkitError("a question is empty")
        options, n = self._decoding(decoding), self.settings.answer_candidates
        plans = [self._plan(q.strip(), [], "") for q in questions]
        asks = [p for p in plans if isinstance(p, _Prompt)]
        chats = [p.messages for p in asks for _ in range(n)]
        generations = self.engine.generate_batch(chats, draft_options(options) if n > 1 else options) if asks else []
        drafted = iter(generations[i:i + n] for i in range(0, len(generations), n))
        finish = (lambda plan, drafts: self._finish(plan, drafts[0])) if n == 1 else self._best_of
        return [p if isinstance(p, Reply) else finish(p, next(drafted)) for p in plans]

    def grounded_chat(self, question: str) -> _Prompt | None:
        """The chat the engine would receive for `question` alone (system, few-shot turns, numbered
        sources, the question: `messages`) with its evidence (`evidence`, `numbering`: chunk id -> [n],
        `message`: what the answer is checked against, `system`); None when the bot would not ask the
        model (an empty knowledge base, a question it declines or answers part by part from quotes)."""
        plan = self._plan((question or "").strip(), [], "")
        return plan if isinstance(plan, _Prompt) else None

    def _answer(self, message: str, history: list[dict], options: DecodingOptions, session_id: str,
                system: str = "", drafts: bool = False):
        """Plan, then check the draft sentence by sentence as it streams: yields the checked text (and
        `Draft` pieces when asked), stops generating once the answer is complete, returns the Reply."""
        with self._turns:
            plan = self._plan(message, history, session_id, system)
        if isinstance(plan, Reply):
            return plan
        if self.settings.answer_candidates > 1:  # the best draft is known once all are written: one piece
            generations = self.engine.generate_batch([plan.messages] * self.settings.answer_candidates,
                                                     draft_options(options))
            with self._turns:
                reply = self._best_of(plan, generations)
            yield from [Draft(reply.draft), reply.text] if drafts else [reply.text]
            return reply
        answer, generation = self._checker(plan), None
        pieces = self.engine.stream(plan.messages, options)
        try:
            for piece in pieces:
                if isinstance(piece, Generation):
                    generation = piece
                    break
                if drafts:
                    yield Draft(piece)
                with self._turns:
                    checked = answer.feed(piece)
                yield from checked
                if answer.done:
                    break
        finally:
            if hasattr(pieces, "close"):
                pieces.close()  # an answer complete before the draft is: the rest is never generated
        with self._turns:
            checked = answer.finish()
        yield from checked
        return self._reply(plan, answer, generation)

    def _plan(self, message: str, history: list[dict], session_id: str, system: str = "") -> Reply | _Prompt:
        """Retrieve and select evidence, then either a canned Reply (nothing to answer from) or the
        prompt to generate from, fitted to the token budget."""
        if self.knowledge.count() == 0:
            return self._canned(EMPTY_KB, "empty-knowledge-base", session_id)
        message = respelled(typed(message), self.knowledge.vocabulary())  # "alowed", "refferal": the documents' word
        # "is the zephyr mini dishwasher safe?": the names as the sources write them
        message = true_cased(message, lambda: [f"\n{c.title}\n{c.text}" for c in self.knowledge.search(
            message, self.settings.top_k, self.settings.min_relevance)])
        found: dict[str, list] = {}  # the evidence for a text is looked up once a question (search + embedding)

        def evidence_for(text: str) -> list:
            if text not in found:
                found[text] = self._evidence(text)
            return found[text]

        query = self._retrieval_query(message, history, evidence_for)
        # A question mostly about things the documents never mention ("Do you sell fridges?")
        # can still retrieve similar-sounding chunks; refuse rather than answer beside the point.
        # Not when a source says nearly what it asks: then the unknown words are the customer's paraphrase.
        # A follow-up is judged with the question it continues, which says what it is about.
        # A name no document uses is never a paraphrase; common words, even all of them, may be ("What time do you
        # shut?" of "closes at 19:00").
        # Nor when the sources answer it the way they answer a customer's paraphrase (`botkit.answerability`: "How much
        # are saddlebags to hire?" of a price list saying "panniers").
        vocabulary = self.knowledge.vocabulary()
        named = unknown_names(asking_part(query), vocabulary)

        @functools.cache
        def focused() -> list:
            """The evidence to answer from: a follow-up's sentences ranked by what it asks now, not by the
            previous question's answer."""
            if query == message:
                return evidence_for(query)
            return self._evidence(query, focus=message, answered=_last_turn(history, "assistant"))

        # A question whose unknown words are only the customer's circumstances ("if i leave some junk behind when i
        # move out what do you charge") is judged word by word below, not declined whole, when what it asks for is in
        # the documents' words ("what do you charge"). Not a yes/no question: those about a thing no document covers
        # ("Do you do dental implants?", "Do you sell gift vouchers, and for how much?") stay declined.
        clause = asked_clause(message) if query == message else ""
        own_words = bool(clause) and not unknown_words(clause, vocabulary)
        if unknown_share(query, vocabulary) >= 0.5 and (named or not (own_words or answerable_anyway(
                query, vocabulary, evidence_for(query), focused(), self.embedder))):
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                "declined: the question names things no document mentions" if named else
                                "declined: most of the question's words are in no document")
        asked = question_parts(message) if query == message else [message]
        if len(asked) > 1:
            return self._composed(asked, session_id)
        evidence = focused()
        if not evidence:
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                "declined: no source sentence is relevant enough")
        # A word no document uses is answerable only through a source that says it in other words, and such a
        # source ranks well and is drawn nearer by the word; otherwise that word is what the question turns on
        # ("Do you have a plan for a whole school district?" beside a student discount).
        unknown = unknown_words(message, self.knowledge.vocabulary()) if query == message else set()
        if unknown and (evidence[0].score < PARAPHRASE_SCORE or evidence[0].score < SURE_SCORE and pulls_away(
                message, unknown, evidence[0], self.embedder)):
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                "declined: a word of the question is in no document and no source sentence "
                                "comes close to it")
        if missing := unstated(message, [text for e in evidence for text in (e.chunk.title, e.sentence)]):
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                f"declined: the question asks about {missing}, the sources give other figures of it")
        if dimension := unmeasured(message, [f"{e.chunk.title}: {e.sentence}" for e in evidence]):
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                f"declined: the question asks how {dimension} it is, the sources give no such measure")
        numbering: dict[str, int] = {}
        by_chunk: dict[int, list[str]] = {}
        for e in evidence:
            n = numbering.setdefault(e.chunk.id, len(numbering) + 1)
            by_chunk.setdefault(n, []).append(e.sentence)
        sources = [f"[{n}] {' '.join(sents)}" for n, sents in by_chunk.items()]
        parts = budget.PromptParts(system=self._system_prompt(system), question=message,
                                   examples=self.fewshot.select(message), sources=sources, history=history)
        messages, dropped = budget.fit(parts, self.engine.count_tokens, self.token_limit)
        kept = len(sources) - dropped["sources"]  # sources are dropped from the end
        return _Prompt(query, messages, dropped, [e for e in evidence if numbering[e.chunk.id] <= kept],
                       numbering, session_id, parts.system)

    def _evidence(self, query: str, focus: str = "", answered: str = "") -> list:
        """The source sentences that answer `query` (ranked by `focus` too: a follow-up's own words, asked after the
        answer `answered`), without document text that talks to the assistant instead of the customer ("ignore
        previous instructions ...": indirect prompt injection)."""
        chunks = self.knowledge.search(query, self.settings.top_k, self.settings.min_relevance)
        evidence = select_evidence(query, chunks, self.embedder, min_score=self.settings.min_evidence, focus=focus,
                                   answered=answered)
        return [e for e in evidence if not talks_to_assistant(e.sentence)]

    def _composed(self, parts: list[str], session_id: str) -> Reply:
        """A two-part question answered part by part, each from its own source sentence and citation;
        a part no source answers is left out, and the don't-know line when none is answered."""
        text, cited, unanswered = compose(parts, self._evidence, self.brand.name)
        if not text:
            return self._canned(self.brand.dont_know, "dont-know", session_id,
                                "declined: no source answers any part of the question")
        citations = [Citation(n, c.source, c.title, c.id, c.text, c.score) for n, c in cited]
        return Reply(text, citations, self._model_name(), {"prompt_tokens": 0, "completion_tokens": 0}, "quoted",
                     session_id, check="a question in parts, each quoted from its own source"
                     + (f"; no source answers: {'; '.join(unanswered)}" if unanswered else ""))

    def _system_prompt(self, extra: str = "") -> str:
        """The brand's system prompt, with a caller's instructions (an API client's system message) after it."""
        prompt = self.brand.system_prompt()
        return f"{prompt}\n\n{extra.strip()}" if extra.strip() else prompt

    def _decoding(self, changes: dict) -> DecodingOptions:
        """The configured decoding with `changes`; an unknown or bad option is a BotkitError."""
        try:
            return self.settings.decoding.merged(**changes) if changes else self.settings.decoding
        except ValidationError as exc:
            raise BotkitError(validation_message(exc, "decoding option", DecodingOptions.model_fields)) from None

    def _retrieval_query(self, message: str, history: list[dict], evidence_for) -> str:
        """`message`, read with the previous question when it is a follow-up ("and how much is it?");
        `evidence_for(text)` is the evidence for a text (looked up once a question)."""
        previous = _last_turn(history, "user")
        if previous and follows_up(message, previous, self.embedder, lambda text: bool(evidence_for(text))):
            return merged_query(message, previous)
        return message

    def _run_plugin(self, route, session_id: str) -> Reply:
        # Best-of-N generates a batch and ranks it: there is nothing useful to stream before that.
        result = self.run_task(route.task, route.text, **route.options)
        return Reply(result.text, result.citations, result.model, result.usage, "plugin", session_id,
                     plugin=route.task, route=route.reason, id=result.id,
                     engine_messages=result.engine_messages, ranker=result.ranker)

    def _canned(self, text: str, grounding: str, session_id: str, check: str = "") -> Reply:
        """A reply the model was not asked for; `check` says why (which gate declined the question)."""
        return Reply(text, [], self._model_name(), {"prompt_tokens": 0, "completion_tokens": 0}, grounding, session_id,
                     check=check)

    def _model_name(self) -> str:
        return self._engine.name if self._engine is not None else self.settings.model

    def _finish(self, plan: _Prompt, generation: Generation) -> Reply:
        """Check a whole draft (a batched generation) the way `_answer` checks a streamed one."""
        answer = self._checker(plan)
        answer.feed(generation.text)
        answer.finish()
        return self._reply(plan, answer, generation)

    def _best_of(self, plan: _Prompt, generations: list[Generation]) -> Reply:
        """The best of several drafts that passes the check (`botkit.draft_ranking`), else the quote;
        usage counts every draft."""
        best = best_draft(generations, lambda: self._checker(plan), lambda: answer_scorer(self, plan.evidence),
                          plan.messages)
        reply = self._reply(plan, best.answer, best.generation)
        reply.ranker, reply.check = best.ranker, f"{reply.check}; {best.note}"
        reply.usage = {"prompt_tokens": sum(g.prompt_tokens for g in generations),
                       "completion_tokens": sum(g.completion_tokens for g in generations)}
        return reply

    def _checker(self, plan: _Prompt) -> CheckedAnswer:
        return CheckedAnswer(plan.message, plan.evidence, self.embedder, lambda chunk: plan.numbering[chunk.id],
                             allowed=self.brand.name, max_sentences=self.settings.answer_sentences,
                             private=plan.system)

    def _reply(self, plan: _Prompt, answer: CheckedAnswer, generation: Generation | None) -> Reply:
        """The checked answer with its citations; `generation` is None when the draft was stopped early."""
        chunks = {plan.numbering[e.chunk.id]: e.chunk for e in plan.evidence}
        citations = [Citation(n, chunks[n].source, chunks[n].title, chunks[n].id, chunks[n].text, chunks[n].score)
                     for n in sorted(set(cited_numbers(answer.text)) & set(chunks))]
        if generation is None:
            count_text = getattr(self.engine, "count_text", lambda text: len(text.split()))
            generation = Generation(answer.draft.strip(), self.engine.count_tokens(plan.messages),
                                    count_text(answer.draft.strip()))
        usage = {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.completion_tokens}
        cut = generation.finish_reason == "length" and answer.used_tail
        return Reply(answer.text, citations, self.engine.name, usage, answer.grounding, plan.session_id,
                     dropped=plan.dropped, draft=generation.text, check=answer.reason,
                     finish_reason="length" if cut else "stop", engine_messages=[dict(m) for m in plan.messages])


@dataclass
class _Prompt:
    """A grounded question ready to generate from: the fitted chat and the evidence kept in it."""

    message: str  # the question the answer is checked against (with the previous one for a follow-up)
    messages: list[dict]
    dropped: dict
    evidence: list
    numbering: dict[str, int]  # chunk id -> its [n] in the prompt
    session_id: str
    system: str = ""  # the system prompt, which an answer must never repeat


def _last_turn(history: list[dict], role: str) -> str:
    """The last message of `role` ("user", "assistant") in `history`, or ""."""
    return next((m["content"] for m in reversed(history) if m["role"] == role), "")
