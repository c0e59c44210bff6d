"""PII redaction for exported preference data: e-mail addresses, phone numbers (Google's libphonenumber
through `phonenumbers`) and payment card numbers (Luhn-checked) become [email], [phone] and [card].

Written to miss order numbers, prices, dates and version numbers: a card must pass the Luhn check and
start like a card network's numbers; a phone number must be valid for its country, and a bare run of
digits counts only after a word like "call" or "phone", never after "order", "invoice" or "#". The
brand's own public contact details can be kept (`feedback.pii_keep`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import phonenumbers

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# 13-19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d/]|[.,-]\d)")
# Issuer prefixes (IIN ranges) of the networks most cards belong to: Visa, Mastercard, Amex, Discover,
# JCB, Diners, UnionPay. A Luhn-valid order number starting otherwise is left alone.
CARD_PREFIX = re.compile(r"4|5[1-5]|2(?:2[2-9]|[3-6]|7[01]|720)|3[47]|6(?:011|4[4-9]|5|2)|35(?:2[89]|[3-8])"
                         r"|3(?:0[0-5]|[68]|9)")
# The nearest cue before a number says what it is: the last one within reach wins.
CUES = re.compile(r"\b(?P<phone>call(?:ed|ing)?|phone|tel|telephone|mobile|cell|text|whatsapp|fax|ring|dial|"
                  r"reach|contact)\b|(?P<other>#|\b(?:order|invoice|ref|reference|tracking|account|sku|item|"
                  r"ticket|case|serial|model|part|po|id)\b)", re.IGNORECASE)
CUE_REACH = 32  # characters before a number searched for a cue


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries (ISO/IEC 7812-1)."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _is_card(match: str) -> bool:
    digits = re.sub(r"[ -]", "", match)
    return 13 <= len(digits) <= 19 and CARD_PREFIX.match(digits) is not None and luhn_valid(digits)


def _cue_before(text: str, start: int) -> str | None:
    """'phone', 'other' or None: the kind of the last cue word shortly before `start`."""
    last = None
    for cue in CUES.finditer(text, max(0, start - CUE_REACH), start):
        last = cue.lastgroup
    return last


def _e164(number) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class Redactor:
    """Replaces PII in text and counts what it replaced (`counts`: kind -> n). E-mail addresses and
    phone numbers in `keep` (however the phone number is written) are left as they are."""

    region: str = "US"
    keep: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._keep = {k.strip().casefold() for k in self.keep}
        for k in self.keep:
            try:
                self._keep.add(_e164(phonenumbers.parse(k, self.region)))
            except phonenumbers.NumberParseException:
                pass  # not a phone number: an e-mail address

    def __call__(self, text: str) -> str:
        text = CARD.sub(lambda m: self._mark("card") if _is_card(m.group()) else m.group(), text)
        text = EMAIL.sub(lambda m: m.group() if m.group().casefold() in self._keep else self._mark("email"), text)
        return self._phones(text)

    def _mark(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"[{kind}]"

    def _phones(self, text: str) -> str:
        out, end = [], 0
        for match in phonenumbers.PhoneNumberMatcher(text, self.region, leniency=phonenumbers.Leniency.VALID):
            cue = _cue_before(text, match.start)
            bare = match.raw_string.isdigit()  # no +, brackets or separators: could be any identifier
            if cue == "other" or (bare and cue != "phone") or _e164(match.number) in self._keep:
                continue
            out += [text[end:match.start], self._mark("phone")]
            end = match.end
        return "".join(out) + text[end:]

    def messages(self, messages: list[dict]) -> list[dict]:
        return [{**m, "content": self(m["content"])} for m in messages]

    def value(self, value):
        """A prompt or completion as exported: text or a message list."""
        return self(value) if isinstance(value, str) else self.messages(value)
