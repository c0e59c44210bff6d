import pytest

from botkit.evidence import Evidence, select_evidence
from botkit.grounding import check_answer, clean_answer, quote_answer
from botkit.knowledge.store import Chunk

WARRANTY = Chunk("c1", "# Zephyr 3000\n\nThe Zephyr 3000 holds 1.7 liters. "
                       "Every Zephyr 3000 comes with a seven-year warranty.",
                 "/kb/zephyr.md", "Zephyr 3000", 0.6)
HOURS = Chunk("c2", "The Portland shop is open Monday to Saturday from 9 a.m. to 6 p.m. "
                    "and on Sunday from 11 a.m. to 4 p.m.",
              "/kb/stores.md", "Stores", 0.5)
QUESTION = "How long is the warranty on the Zephyr 3000 kettle?"


@pytest.fixture
def evidence(embedder):
    return select_evidence(QUESTION, [WARRANTY, HOURS], embedder)


@pytest.mark.parametrize("answer", [
    "The answer is: 2.2 hours",  # what the default model once said, given this very source
    "The Zephyr 3000 comes with a five-year warranty.",
    "The Zephyr 3000 comes with a seven-year warranty and free descaling for life from Zeus Corp.",
    "The Zephyr 3000 has no warranty.",
    "",
])
def test_unsupported_answers_are_rejected(answer, evidence, embedder):
    assert not check_answer(clean_answer(answer), QUESTION, evidence, embedder).supported


@pytest.mark.parametrize("answer", [
    "The Zephyr 3000 comes with a seven-year warranty.",
    "The answer to your question is: The Zephyr 3000 comes with a seven-year warranty.",
    "I'm sorry for any confusion. Every Zephyr 3000 comes with a 7-year warranty.",
])
def test_supported_answers_pass(answer, evidence, embedder):
    check = check_answer(clean_answer(answer), QUESTION, evidence, embedder)
    assert check.supported, check.reason


def test_a_figure_moved_to_another_fact_is_rejected(embedder):
    q = "When is the Portland shop open on Sundays?"
    ev = select_evidence(q, [HOURS], embedder)
    bad = "The Portland shop opens on Sunday at 9 a.m."
    good = "The Portland shop is open on Sunday from 11 a.m. to 4 p.m."
    assert not check_answer(bad, q, ev, embedder).supported
    assert check_answer(good, q, ev, embedder).supported


def test_clean_answer_drops_padding_and_repeats():
    draft = "I'm sorry for any confusion. It weighs 6.8 pounds. : It weighs 6.8 pounds. It is red. [1"
    assert clean_answer(draft) == "It weighs 6.8 pounds. It is red."


def test_quote_answer_cites_each_sentence(evidence):
    text = quote_answer(evidence, lambda chunk: {"c1": 1, "c2": 2}[chunk.id])
    assert text.startswith("Every Zephyr 3000 comes with a seven-year warranty.") and "[1]" in text


def test_quote_merges_sentences_of_one_source():
    ev = [Evidence("A is 1.", WARRANTY, 0.8), Evidence("B is 2.", WARRANTY, 0.79)]
    assert quote_answer(ev, lambda c: 1) == "A is 1. B is 2. [1]"


def test_a_nearly_tied_row_is_quoted_with_the_best_one_a_distant_one_is_not():
    fees = Chunk("f", "Stolen while locked: you pay an excess of £150\nStolen while unlocked: you pay the full cost",
                 "/kb/fees.md", "Theft", 0.5)
    best, second = "Stolen while unlocked: you pay the full cost", "Stolen while locked: you pay an excess of £150"
    close = quote_answer([Evidence(best, fees, 0.74), Evidence(second, fees, 0.67)], lambda c: 1)
    assert "£150" in close  # 0.07 apart: the scores cannot tell which row the customer means
    far = quote_answer([Evidence(best, fees, 0.74), Evidence(second, fees, 0.58)], lambda c: 1)
    assert far == f"{best} [1]"


def test_version_numbers_are_checked_not_a_crash(embedder):
    # "3.5.6" is no float: the check once raised ValueError, and `eval grounding` lost its whole report.
    release = Chunk("c3", "Lumen Notes 4.9.3 needs Firefox 115 or later.", "/kb/notes.md", "Release notes", 0.6)
    question = "Which Firefox does Lumen Notes 4.9.3 need?"
    evidence = select_evidence(question, [release], embedder)
    assert check_answer("Lumen Notes 4.9.3 needs Firefox 115 or later.", question, evidence, embedder).supported
    moved = check_answer("Lumen Notes needs Firefox 4.9.3 or later.", question, evidence, embedder)
    assert not moved.supported


# The check's holes (issue 11): answers that must never be shown as the model's words.
DELIVERY = Chunk("c4", "Order by 2 p.m. on a working day for next-day delivery.", "/kb/shipping.md", "Delivery", 0.6)
MINI = Chunk("c5", "# Zephyr Mini\n\nThe Zephyr Mini holds 0.8 liters and boils in two minutes.", "/kb/mini.md",
             "Zephyr Mini", 0.6)
LID = Chunk("c6", "Q: Can the Zephyr 3000 lid go in the dishwasher?\n"
                  "A: Yes, the lid of the Zephyr 3000 is dishwasher safe.", "/kb/faq.jsonl", "FAQ", 0.6)


def test_an_answer_with_an_empty_slot_is_rejected(embedder):
    question = "What is the latest I can order for next-day delivery?"
    evidence = select_evidence(question, [DELIVERY], embedder)
    for hole in ("The latest I can order for next-day delivery is . [1]", "Next-day delivery costs $. [1]",
                 "The latest order time for is 2 p.m. on a working day. [1]"):
        check = check_answer(hole, question, evidence, embedder)
        assert not check.supported and "empty slot" in check.reason
    assert check_answer("Order by 2 p.m. on a working day for next-day delivery.", question, evidence,
                        embedder).supported


def test_a_bare_or_unsupported_yes_no_is_rejected(embedder, evidence):
    assert not check_answer("Yes.", QUESTION, evidence, embedder).supported
    # No source says yes or no to this; the sentence after the "Yes" is true, the "Yes" is not supported.
    question = "Is the Zephyr 3000 dishwasher safe?"
    warranty = select_evidence(question, [WARRANTY], embedder)
    check = check_answer("Yes. Every Zephyr 3000 comes with a seven-year warranty.", question, warranty, embedder)
    assert not check.supported and 'no source says "yes"' in check.reason


def test_yes_no_is_said_only_when_a_source_states_it(embedder):
    question = "Can the Zephyr 3000 lid go in the dishwasher?"
    evidence = select_evidence(question, [LID, WARRANTY], embedder)
    assert check_answer("Yes. The lid of the Zephyr 3000 is dishwasher safe.", question, evidence, embedder).supported
    assert not check_answer("No. The lid of the Zephyr 3000 is dishwasher safe.", question, evidence,
                            embedder).supported
    unstated = select_evidence("Is the Zephyr 3000 dishwasher safe?", [WARRANTY], embedder)
    assert not quote_answer(unstated, lambda c: 1, "Is the Zephyr 3000 dishwasher safe?").startswith(("Yes", "No"))
    stated = [Evidence("The Zephyr 3000 holds 1.7 liters.", WARRANTY, 0.8)]
    assert quote_answer(stated, lambda c: 1, "Does the Zephyr 3000 hold 1.7 liters?") == \
        "Yes. The Zephyr 3000 holds 1.7 liters. [1]"


def test_a_sentence_opening_with_the_word_no_keeps_it_in_a_quote():
    # "No" here is the fact ("no deposit"), not a reply to another question: dropping it says the opposite.
    rides = Chunk("r", "No deposit is needed for a test ride.", "/kb/rides.md", "Test rides")
    quote = quote_answer([Evidence(rides.text, rides, 0.7)], lambda c: 1, "How long is a test ride? Do I pay for it?")
    assert quote == "No deposit is needed for a test ride. [1]"
    faq = Chunk("f", "Q: Is there a deposit?\nA: No. A test ride is free.", "/kb/faq.csv", "FAQ")
    quote = quote_answer([Evidence("No. A test ride is free.", faq, 0.7)], lambda c: 1, "What does a test ride cost?")
    assert quote == "A test ride is free. [1]"  # the FAQ's own "No." answers its own question


@pytest.mark.parametrize("answer", [
    "The source confirms that every Zephyr 3000 comes with a seven-year warranty.",
    'The citation for: "Every Zephyr 3000 comes with a seven-year warranty."',
])
def test_an_answer_that_talks_about_its_sources_is_rejected(answer, evidence, embedder):
    check = check_answer(clean_answer(answer), QUESTION, evidence, embedder)
    assert not check.supported and "talks about its sources" in check.reason
    # Unless the documents speak of such things themselves.
    documents = Chunk("c9", "Bring the documents listed on your booking to the desk.", "/kb/desk.md", "Desk", 0.6)
    question = "What do I bring to the desk?"
    shown = "Bring the documents listed on your booking to the desk."
    assert check_answer(shown, question, [Evidence(documents.text, documents, 0.7)], embedder).supported


def test_an_answer_sharing_nothing_with_the_question_is_rejected(embedder):
    question = "How long is the warranty?"
    evidence = [Evidence(HOURS.text, HOURS, 0.5)]
    check = check_answer("The Portland shop is open on Sunday from 11 a.m. to 4 p.m.", question, evidence, embedder)
    assert not check.supported and "shares nothing with the question" in check.reason


def test_a_fact_about_another_product_is_rejected(embedder):
    question = "How long is the warranty on the Zephyr Mini?"
    evidence = [Evidence("Every Zephyr 3000 comes with a seven-year warranty.", WARRANTY, 0.7)]
    check = check_answer("The Zephyr Mini comes with a seven-year warranty.", question, evidence, embedder)
    assert not check.supported and "3000" in check.reason
    # The quote prefers a sentence about the product asked about.
    both = evidence + [Evidence("The Zephyr Mini holds 0.8 liters and boils in two minutes.", MINI, 0.69)]
    assert quote_answer(both, lambda c: {"c1": 1, "c5": 2}[c.id], question).startswith("The Zephyr Mini")


def test_a_name_the_customer_mentions_before_asking_is_not_the_product_asked_about():
    regions = Chunk("g", "EU customers: Data centre: Dublin, Ireland\nEveryone else: Data centre: Ohio, United States",
                    "/kb/privacy.html", "Where your data is stored")
    rows = [Evidence(line, regions, 0.6) for line in regions.text.splitlines()]
    rows.append(Evidence("The region is set from the country you choose at sign-up.", regions, 0.55))
    # "Spain" is where the customer lives, not a product the Dublin row is "another" of.
    quote = quote_answer(rows, lambda c: 1, "I live in Spain. Where is my data stored?", max_sentences=1)
    assert quote == "EU customers: Data centre: Dublin, Ireland [1]"


def test_quotes_carry_no_markup_or_table_debris():
    bold = Chunk("c7", "Zephyr 3000 — $129.** Our best-selling kettle.", "/kb/p.md", "Prices", 0.6)
    row = Chunk("c8", "| Express | $9.95 | next working day |", "/kb/s.md", "Shipping", 0.6)
    quote = quote_answer([Evidence(bold.text, bold, 0.7)], lambda c: 1)
    assert quote == "Zephyr 3000 — $129. Our best-selling kettle. [1]"
    assert quote_answer([Evidence(row.text, row, 0.7)], lambda c: 1) == "Express, $9.95, next working day [1]"
    # A lone star is a wildcard, not emphasis: it stays, with the space before it.
    wildcard = Chunk("c9", "Allow *.lumensync.net and *this* domain.", "/kb/n.md", "Network", 0.6)
    assert quote_answer([Evidence(wildcard.text, wildcard, 0.7)], lambda c: 1) == \
        "Allow *.lumensync.net and this domain. [1]"


def test_the_question_echoed_as_a_fact_is_rejected(embedder):
    question = "Can I leave a broken toaster at your shop for recycling on a Sunday?"
    evidence = [Evidence("Any Kettlebrook store takes back an old kettle or toaster for recycling when you buy "
                         "a new one.", Chunk("r", "", "/kb/recycling.md", "Recycling"), 0.7)]
    echo = clean_answer("The source says that you can leave a broken toaster at the shop for recycling on a "
                        "Sunday. [1]")
    assert echo.startswith("You can leave")  # the filler the default model wraps it in is gone
    check = check_answer(echo, question, evidence, embedder)
    assert not check.supported and "restates the question" in check.reason
    assert check_answer("Stores take back an old toaster for recycling when you buy a new one.",
                        "Can I recycle my old toaster at your store?", evidence, embedder).supported


def test_a_faqs_yes_or_no_answers_its_own_question_not_one_that_shares_a_name():
    from botkit.grounding import stated_answer

    faq = Chunk("f", "Q: Does Pro for Lumen Notes include Lumen Tasks?\nA: No. Lumen Notes and Lumen Tasks are "
                     "separate subscriptions.", "/kb/faq.jsonl", "FAQ")
    evidence = [Evidence("No. Lumen Notes and Lumen Tasks are separate subscriptions.", faq, 0.6)]
    assert stated_answer("Does Pro for Lumen Notes include Lumen Tasks?", evidence) == "no"
    assert stated_answer("Can I connect Lumen Notes to Slack?", evidence) == ""


def test_a_later_sentence_of_a_faq_answer_never_says_yes_to_the_faqs_question():
    from botkit.grounding import stated_answer

    # "do you deliver on sundays?" was answered "Yes. Parcel deliveries run Monday to Saturday. No. ...": the
    # FAQ's question supplied "Sunday", which the sentence never says.
    faq = Chunk("f", "Q: Do you deliver on Sundays?\nA: No. Two-person deliveries run Monday to Saturday. "
                     "Parcel deliveries run Monday to Saturday.", "/kb/faq.csv", "FAQ")
    later = Evidence("Parcel deliveries run Monday to Saturday.", faq, 0.7)
    first = Evidence("No. Two-person deliveries run Monday to Saturday.", faq, 0.65)
    assert stated_answer("do you deliver on sundays?", [later]) == ""
    quote = quote_answer([later, first], lambda chunk: 1, "do you deliver on sundays?")
    assert not quote.startswith("Yes") and "Monday to Saturday" in quote
    assert stated_answer("do you deliver on sundays?", [first]) == "no"  # its own answer still says no


def test_a_quoted_faq_answer_drops_its_no_for_a_question_it_does_not_answer():
    faq = Chunk("f", "Q: Does Pro for Lumen Notes include Lumen Tasks?\nA: No. Lumen Notes and Lumen Tasks are "
                     "separate subscriptions.", "/kb/faq.jsonl", "FAQ")
    evidence = [Evidence("No. Lumen Notes and Lumen Tasks are separate subscriptions.", faq, 0.6)]
    quote = quote_answer(evidence, lambda chunk: 1, "Can I connect Lumen Notes to Slack?")
    assert quote == "Lumen Notes and Lumen Tasks are separate subscriptions. [1]"
    assert quote_answer(evidence, lambda chunk: 1, "Does Pro for Lumen Notes include Lumen Tasks?").startswith("No.")


def test_a_quoted_sentence_that_points_back_comes_with_the_sentence_it_points_at():
    sync = Chunk("s", "Sync needs a connection to sync.lumensync.net on port 443. If your company uses a firewall, "
                      "ask your IT team to allow that address.", "/kb/sync.html", "Sync › How sync works")
    evidence = [Evidence("If your company uses a firewall, ask your IT team to allow that address.", sync, 0.8)]
    quote = quote_answer(evidence, lambda c: 1, "What do I need to unblock in our firewall?")
    assert quote == ("Sync needs a connection to sync.lumensync.net on port 443. If your company uses a firewall, "
                     "ask your IT team to allow that address. [1]")


def test_a_quote_for_a_code_says_the_heading_that_names_it():
    # "what does E-204 mean" was answered with the advice under the heading, never saying what E-204 is.
    error = Chunk("e", "The account is signed in on as many devices as its plan allows.", "/kb/errors.txt",
                  "Troubleshooting › Error codes › E-204 Device limit reached")
    quote = quote_answer([Evidence(error.text, error, 0.7)], lambda c: 1, "The app shows E-204, what does it mean?")
    assert quote == "E-204 Device limit reached: The account is signed in on as many devices as its plan allows. [1]"


def test_a_section_title_alone_never_says_yes():
    from botkit.grounding import stated_answer

    # The heading names the topic; the sentence under it says nothing asked, so no "Yes." is put before it.
    check = Chunk("k", "The lender runs its own credit check.", "/kb/pay.md", "Payments › Paying monthly")
    assert stated_answer("Can I pay monthly?", [Evidence(check.text, check, 0.6)]) == ""
    assert not quote_answer([Evidence(check.text, check, 0.6)], lambda c: 1, "Can I pay monthly?").startswith("Yes")
    # The sentence saying what is asked, the heading completing it: stated.
    split = Chunk("s", "Any order can be split into monthly payments.", "/kb/pay.md", "Payments › Paying monthly")
    assert stated_answer("Can I pay monthly?", [Evidence(split.text, split, 0.6)]) == "yes"


def test_a_rule_under_a_heading_of_common_words_answers_for_every_product():
    # A made-up shop: "Is the Larkspur Mini oven-safe?" is answered by a rule for every dish, filed under
    # "Care Notices > General" (common words, no product); a sentence under another product's own heading
    # ("Brambleton Casserole", a name its text uses) still gives way.
    rule = Chunk("r", "Never put any Fenwick dish lid in a hot oven.", "care.txt", "Care Notices › General")
    other = Chunk("o", "The Brambleton lid is oven-safe to 200 C.", "brambleton.md", "Brambleton Casserole › Care")
    question = "Is the Larkspur Mini lid oven-safe?"
    picked = [Evidence(other.text, other, 0.7), Evidence(rule.text, rule, 0.65)]
    assert quote_answer(picked, lambda c: {"r": 1, "o": 2}[c.id], question, "Fenwick") == \
        "Never put any Fenwick dish lid in a hot oven. [1]"
    # Under any other sentence a heading's words still tell what it is about: winter hours are not Boxing Day's.
    from botkit.grounding import other_subject

    hours = Chunk("h", "Open 9:30 to 16:30.", "hours.md", "Opening Hours › Winter")
    assert other_subject("Are you open on Boxing Day?", Evidence(hours.text, hours, 0.6))


BUNDLE = Chunk("c9", "The Brew Bundle pairs a Millrace Burr Grinder with a Heron Gooseneck Kettle for $219, "
                     "a saving of $29.", "/kb/pricing.md", "Pricing and bundles › Bundles", 0.6)
PRICES = Chunk("c10", "The Zephyr 3000 costs $129. The Zephyr Mini costs $59.", "/kb/pricing.md", "Pricing", 0.6)


def test_a_figure_after_is_passes_when_its_source_sentence_states_it_of_that_subject(embedder):
    # The default model's own phrasing of a held-out answer, right and grounded, once turned down for "is 219".
    question = "What's the price of the grinder and gooseneck kettle bundle?"
    evidence = [Evidence(BUNDLE.text, BUNDLE, 0.7)]
    check = check_answer("The price of the grinder and gooseneck kettle bundle is $219.", question, evidence, embedder)
    assert check.supported, check.reason
    # The sentence's other figure is the saving: its clause names no bundle.
    assert not check_answer("The bundle is $29.", question, evidence, embedder).supported
    # Another product's figure: "mini" is not in the sentence that states $129.
    prices = [Evidence("The Zephyr 3000 costs $129.", PRICES, 0.7), Evidence("The Zephyr Mini costs $59.", PRICES, 0.6)]
    assert "is 129" in check_answer("The Zephyr Mini is $129.", "How much is the Zephyr Mini?", prices, embedder).reason


def test_an_answer_that_says_always_where_the_source_says_never_is_turned_down(embedder):
    # Drafted by a model fine-tuned against the check: it kept the source's "not" and turned its rule around.
    care = Chunk("c11", "Never wash the Millrace Burr Grinder burrs in water, because the hardened steel can rust if "
                        "it is not dried perfectly.", "/kb/care.md", "Care › Millrace Burr Grinder", 0.6)
    question, evidence = "Can I wash the Millrace burrs in water?", [Evidence(care.text, care, 0.7)]
    flipped = ("Your Millrace Burr Grinder burrs should always be washed in water, because the hardened steel can "
               "rust if it is not dried perfectly.")
    assert "always" in check_answer(flipped, question, evidence, embedder).reason
    check = check_answer("Never wash the Millrace Burr Grinder burrs in water.", question, evidence, embedder)
    assert check.supported or "always" not in check.reason
