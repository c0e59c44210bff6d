"""PII in logged chats is redacted in exports by default: e-mail addresses, phone numbers and card
numbers go, while order numbers, prices, dates and versions in the same messages stay."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.config import load_settings
from botkit.feedback.redaction import Redactor, luhn_valid
from botkit.feedback.store import RankingStore

# Support chats as customers write them; every figure here that is not PII must survive.
CUSTOMER = ("Hi, it's Dana Fisher (dana.fisher+orders@example.co.uk). Order #4155552671 from 2026-01-31 "
            "arrived with a cracked lid. Please call me at (415) 555-2671 or on my mobile +44 20 7946 0958.")
CARD_ISSUE = ("You charged my card 4111 1111 1111 1111 twice: $129.99 on 01/31/2026 for order 100234567. "
              "My Mastercard 5555-5555-5555-4444 was fine.")
SAFE = ("Order 4155552672 ships in 2-3 days. Invoice 4155552671 is $1,299.00 (or 1299.00 EUR), due 31.01.2026 "
        "at 10:30. Firmware v3.5.6 fixes it; the Zephyr 3000 has a 7-year warranty; SKU 5550123; tracking "
        "1Z999AA10123456784; ISBN 978-0-306-40615-7; serial 1234567890123; call us back in 15 minutes.")


@pytest.mark.parametrize(("text", "gone", "kept", "counts"), [
    (CUSTOMER, ["dana.fisher", "555-2671", "7946 0958"], ["Order #4155552671 from 2026-01-31", "Dana Fisher"],
     {"email": 1, "phone": 2}),
    (CARD_ISSUE, ["4111 1111", "5555-5555"], ["$129.99 on 01/31/2026 for order 100234567"], {"card": 2}),
    ("ring 4155552671 after 5pm, or text 415.555.2671", ["4155552671", "415.555.2671"], ["after 5pm"],
     {"phone": 2}),
    ("Amex 378282246310005, Discover 6011111111111117, JCB 3530111333300000.", ["3782", "6011", "3530"], [],
     {"card": 3}),
])
def test_pii_goes_and_the_rest_of_the_message_stays(text, gone, kept, counts):
    redactor = Redactor()
    out = redactor(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out
    assert dict(redactor.counts) == counts


def test_order_numbers_prices_dates_and_versions_are_not_pii():
    redactor = Redactor()
    assert redactor(SAFE) == SAFE and not redactor.counts
    # A 16-digit number that fails the Luhn check, or passes it but starts like no card network's numbers.
    assert not luhn_valid("4111111111111112")
    for number in ("4111 1111 1111 1112", "9111 1111 1111 1110", "1234-5678-9012-3452"):
        assert redactor(f"Reference {number} noted.") == f"Reference {number} noted."


def test_the_brands_own_contact_details_can_be_kept():
    redactor = Redactor(keep=["+1 800 555 0147", "Help@Kettlebrook.com"])
    text = "Call 1-800-555-0147 or help@kettlebrook.com, not (800) 555-0199 or bob@example.com."
    assert redactor(text) == "Call 1-800-555-0147 or help@kettlebrook.com, not [phone] or [email]."
    uk = Redactor(region="GB")
    assert uk("Ring us on 020 7946 0958.") == "Ring us on [phone]."  # a national number in the set region
    assert Redactor()("Ring us on 020 7946 0958.") == "Ring us on 020 7946 0958."  # not a US number


def test_export_redacts_by_default_and_no_redact_or_the_setting_keeps_it(home, tmp_path, monkeypatch):
    store = RankingStore.open(load_settings())
    history = [{"role": "user", "content": "My e-mail is sam@example.org."},
               {"role": "assistant", "content": "Thanks."}]
    ask = "Can you call me on 415-555-2671 about order #100234567?"
    good = store.log_response(ask, "Of course, we will call 415-555-2671 today about order #100234567.",
                              model="v1", messages=[*history, {"role": "user", "content": ask}])
    bad = store.log_response(ask, "Send your card number 4111111111111111 to sam@example.org.", model="v2",
                             messages=[*history, {"role": "user", "content": ask}])
    pair = store.add_pair(good, bad)
    store.record_comparison(pair, store.add_annotator("maya"), "a" if store.pair(pair)["a_id"] == good else "b")
    runner = CliRunner()

    out = tmp_path / "prefs.jsonl"
    report = json.loads(runner.invoke(app, ["feedback", "export", str(out), "--json"]).stdout)
    assert report["redacted"] == {"phone": 2, "email": 2, "card": 1} and report["train"] == 1
    text = out.read_text()
    assert not any(pii in text for pii in ("sam@example.org", "415-555-2671", "4111111111111111"))
    row = json.loads(text)
    assert row["prompt"][0]["content"] == "My e-mail is [email]."
    assert row["chosen"][0]["content"] == "Of course, we will call [phone] today about order #100234567."
    assert row["rejected"][0]["content"] == "Send your card number [card] to [email]."

    shown = runner.invoke(app, ["feedback", "export", str(out)]).stdout
    assert "redacted: 1 card, 2 email, 2 phone" in shown
    report = json.loads(runner.invoke(app, ["feedback", "export", str(out), "--no-redact", "--json"]).stdout)
    assert report["redacted"] is None and "sam@example.org" in out.read_text()
    monkeypatch.setenv("BOTKIT_FEEDBACK__REDACT_PII", "false")
    runner.invoke(app, ["feedback", "export", str(out)])
    assert "4111111111111111" in out.read_text()


def test_answers_that_differ_only_in_pii_are_no_preference(home, tmp_path):
    store = RankingStore.open(load_settings())
    a = store.log_response("Your number?", "Call 415-555-2671.", model="v1")
    b = store.log_response("Your number?", "Call 212-555-0147.", model="v2")
    store.record_comparison(store.add_pair(a, b), store.add_annotator("maya"), "a")
    report = store.export_trl(tmp_path / "out.jsonl")
    assert report["train"] == 0 and report["skipped"]["identical-after-redaction"] == 1
