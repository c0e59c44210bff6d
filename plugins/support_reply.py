"""Support replies: a draft answer to a customer's email or ticket, each question in it answered
from the knowledge base with citations (the same grounded, checked answers as chat), wrapped in the
brand's greeting and sign-off. Questions the documents do not cover get the brand's don't-know
line, so an agent sees at a glance what to add by hand."""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableLambda
from pydantic import Field

from botkit.evidence import split_sentences
from botkit.hookspecs import hookimpl
from botkit.replies import Citation
from botkit.tasks import Task, TaskOptions

MAX_QUESTIONS = 4  # each is one grounded generation; a longer email is answered in its first four
CITE = re.compile(r"\[(\d+)\]")


def questions_in(message: str) -> list[str]:
    """The sentences of `message` that ask something, else the whole message as one request."""
    asked = [s for s in split_sentences(message) if s.rstrip().endswith("?")]
    return asked[:MAX_QUESTIONS] or [" ".join(message.split())]


class SupportReply(Task):
    name = "support_reply"
    aliases = ("reply",)
    needs_text = True
    intents = [
        "Draft a reply to this customer email",
        "Answer this support ticket for me",
        "Write a response to the customer who wrote this",
        "Help me reply to this complaint",
    ]
    description = ("Draft a reply to a customer email or ticket, each question answered from the knowledge base "
                   "with citations.")

    class Options(TaskOptions):
        customer: str = Field("", max_length=60, description="The customer's name, for the greeting.")
        sign_off: str = Field("", max_length=80, description="Who signs the reply (default: the brand's team).")

    def build(self, bot, options: Options):
        def reply(message: str) -> dict:
            numbering: dict[str, int] = {}  # chunk id -> its number in the whole reply
            citations, answers = [], []
            for question in questions_in(message):
                answer = bot.answer(question)
                local = {c.n: c for c in answer.citations}

                def renumber(match, local=local):
                    cited = local.get(int(match.group(1)))
                    if cited is None:
                        return ""
                    if cited.chunk_id not in numbering:
                        numbering[cited.chunk_id] = len(numbering) + 1
                        citations.append({**vars(cited), "n": numbering[cited.chunk_id]})
                    return f"[{numbering[cited.chunk_id]}]"

                answers.append({"question": question, "answer": CITE.sub(renumber, answer.text).strip(),
                                "grounding": answer.grounding})
            greeting = f"Hi {options.customer.strip()}," if options.customer.strip() else "Hello,"
            sign_off = options.sign_off.strip() or f"The {bot.brand.name} team"
            body = "\n\n".join(a["answer"] for a in answers)
            text = f"{greeting}\n\nThank you for getting in touch.\n\n{body}\n\nBest regards,\n{sign_off}"
            return {"reply": text, "answers": answers, "citations": citations}

        return RunnableLambda(reply)

    def citations(self, output: dict) -> list:
        return [Citation(**c) for c in output["citations"]]

    def format(self, output: dict) -> str:
        return output["reply"]


@hookimpl
def register_tasks(register):
    register(SupportReply())
