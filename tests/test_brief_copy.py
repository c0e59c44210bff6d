"""Copy composed from the brief's own words: every line says only what the brief says, fits its limit,
ends in the brand's own closing phrases, and is checked and ranked beside the model's samples."""

import re
from pathlib import Path
from types import SimpleNamespace

from botkit.prompting.brand import BrandProfile, load_brand
from botkit.tasks.best_of_n import best_of_n
from botkit.tasks.brief_copy import archive_beside, brand_closings, compose

SAMPLE = Path(__file__).parent.parent / "examples" / "kettlebrook"
CLICK = "Click and collect: order online and pick it up free at any Kettlebrook shop, usually ready within 4 hours"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9$%]+", text.lower()))


def test_composed_lines_say_only_what_the_brief_says_within_the_limit():
    closings = ["simple as that"]
    for limit, kind in ((30, "headline"), (60, "subject"), (90, "description"), (280, "post")):
        lines = compose(CLICK, limit, closings, kind)
        assert lines and all(len(line) <= limit for line in lines)
        assert all(words(line) <= words(CLICK) | words(" ".join(closings)) for line in lines)
        assert all(line.endswith(".") for line in lines) if kind in ("description", "post") else True
    # Too long for a subject line: it stops before a qualifier, never mid-phrase.
    assert "Pay in four interest-free installments with Klarna" in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 60)


def test_a_part_of_the_brief_is_a_line_only_when_it_keeps_the_offer():
    held = "Click-and-collect orders are held for 14 days at the shop you picked"
    assert compose(held, 60) == ["Click-and-collect orders are held for 14 days"]  # not "... are held"
    shop = "Our Portsmouth shop at 150 Market Street, open Monday to Saturday from 9:30 a.m. to 5:30 p.m."
    assert not any(line.startswith("Our Portsmouth shop at 150 Market Street") and "Saturday" not in line
                   for line in compose(shop, 60, ["simple as that"]))  # the hours dropped: the point dropped
    assert "Our Portsmouth shop" in compose(shop, 30, kind="headline")  # a topic is a headline, not a subject
    # A model number is a name, not an offer: "The Zephyr 3000 electric kettle" keeps none of "$129"; and a
    # fact listed after a comma is the point too (a reader missed the warranty in "..., $129").
    kettle = compose("The Zephyr 3000 electric kettle, $129, with a seven-year warranty", 70)
    assert kettle == ["The Zephyr 3000 electric kettle, $129, with a seven-year warranty"]  # (where it fits)
    # Nor may a cut lose the date ("Every Kettlebrook shop closes at 3 p.m." reads as every day), end on a
    # participle ("gift cards from $25, sent"), or lose what the brief is about ("A flat $35 labor fee").
    hours = "Holiday hours: every Kettlebrook shop closes at 3 p.m. on December 24 and stays closed on December 25"
    assert all("December 24" in line and "December 25" in line for line in compose(hours, 280, kind="post"))
    assert compose("Kettlebrook gift cards from $25, sent by email the same day", 40) == [
        "Kettlebrook gift cards from $25"]
    assert compose("Repairs after the warranty: a flat $35 labor fee plus parts", 60, ["simple as that"]) == [
        "Repairs after the warranty: a flat $35 labor fee plus parts"]
    assert "Order online and pick it up free" in compose(CLICK, 60)  # a request stands without its topic
    assert not any(line.count(": ") > 1 for line in compose("Winter sale: 20% off kettles until January 5", 280))


def test_a_brief_ending_on_a_date_or_time_is_also_led_by_it():
    demo = "The free pour-over coffee demonstration at our Portland shop, every Saturday at 11 a.m."
    assert ("Every Saturday at 11 a.m.: the free pour-over coffee demonstration at our Portland shop."
            in compose(demo, 125, kind="description"))
    assert "From October 1: the Heron Gooseneck Kettle now comes in matte black" in compose(
        "The Heron Gooseneck Kettle now comes in matte black, from October 1", 90)
    # Never when what is left ends mid-clause: "On December 25: ... and stays closed" would misstate it.
    hours = "Every shop closes at 3 p.m. on December 24 and stays closed on December 25"
    assert not any(line.startswith("On December") for line in compose(hours, 280, kind="post"))
    # Nor when it would leave a word wanting what followed, or half of a date behind.
    tours = "Workshop tours in Lewiston on the first Saturday of every month at 10 a.m."
    assert not any(line.startswith("Every month") for line in compose(tours, 280, kind="post"))
    open_ = "Our Portsmouth shop at 150 Market Street, open Monday to Saturday from 9:30 a.m. to 5:30 p.m."
    assert not any(line.startswith("From 9:30") for line in compose(open_, 280, kind="post"))


def test_the_brands_closing_follows_a_statement_never_a_bare_name():
    closings = ["simple as that"]
    pay = compose("Pay in four interest-free installments with Klarna on orders of $100 or more", 90, closings,
                  "description")
    assert "Pay in four interest-free installments with Klarna. Simple as that." in pay  # its own sentence
    assert "Pay in four interest-free installments, simple as that." in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 60, closings)
    shop = compose("Our Burlington shop on Church Street: try the kettles at the counter", 90, closings, "headline")
    # A headline takes no closing.
    assert "Our Burlington shop on Church Street" in shop and not any("simple" in line for line in shop)


def test_closings_come_from_the_brands_own_copy_and_none_are_made_up():
    brand = load_brand(SAMPLE / "brand.yaml")
    archive = archive_beside(SAMPLE / "brand.yaml")
    assert archive == SAMPLE / "copy_archive.jsonl"
    # A clause led by a brand word, then small words only: nothing it says is a product claim, and no
    # "made simple" (after a name it reads as nonsense: "Our Portsmouth shop, made simple").
    # "The simple way" (the brand word after its article) is one of manner: a blind reader found none of the
    # lines it ended usable as is, so no line ends on it.
    assert brand_closings(brand, archive) == ["simple as that", "the simple way"]
    for limit, kind in ((60, "subject"), (90, "description"), (90, "post")):
        pay = compose("Pay in four interest-free installments with Klarna on orders of $100 or more", limit,
                      brand_closings(brand, archive), kind)
        assert pay and not any("simple way" in line.lower() for line in pay)
    assert "Pay in four interest-free installments, simple as that." in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 60,
        brand_closings(brand, archive))
    assert brand_closings(BrandProfile(name="Acme", words_to_use=["simple"]), None) == []


class Engine:
    """Replies with canned lines, as many as asked."""

    def __init__(self, replies):
        self.replies = replies

    def generate_batch(self, chats, options):
        return [SimpleNamespace(text=self.replies[i % len(self.replies)], completion_tokens=5)
                for i in range(len(chats))]


def test_composed_lines_are_checked_ranked_and_marked_beside_the_samples():
    from botkit.decoding import DecodingOptions

    composed = ["Order online, pick it up free", "Order online and pick it up free at any shop we have ever had x"]
    out = best_of_n(Engine(["Tea, any day", "Cold toast"]), [{"role": "user", "content": CLICK}], samples=2,
                    keep=3, limit=40, scorer=lambda texts: [len(t) for t in texts], decoding=DecodingOptions(),
                    check=lambda texts: [["off the brief"] if "toast" in t.lower() else [] for t in texts],
                    composed=composed)
    # The composed line over the limit and the model's line off the brief are not shown; fewer than asked: said.
    assert [(c.text, c.written_by) for c in out] == [("Order online, pick it up free", "brief"),
                                                     ("Tea, any day", "model")]
    assert out.note.startswith("only 2 of 3") and out.failed["off the brief"] == 1
    # For a model whose own lines read as nonsense, the brief's lines come first whatever the scorer says.
    shorter_first = dict(samples=2, keep=2, limit=40, scorer=lambda texts: [-len(t) for t in texts],
                         decoding=DecodingOptions(), composed=composed[:1])
    chat = [{"role": "user", "content": CLICK}]
    assert [c.written_by for c in best_of_n(Engine(["Tea, any day"]), chat, **shorter_first)] == ["model", "brief"]
    assert [c.written_by for c in best_of_n(Engine(["Tea, any day"]), chat, prefer_brief=True,
                                            **shorter_first)] == ["brief", "model"]
    # For such a model, its lines are not shown as variants at all: they are set apart as ideas, fewer
    # variants than asked are said, and the caution goes only with them.
    out = best_of_n(Engine(["Tea, any day"]), chat, prefer_brief=True, model_ideas=True, caution="careful",
                    **shorter_first)
    assert [c.written_by for c in out] == ["brief"] and out.ideas == ["Tea, any day"]
    assert out.note.startswith("only 1 of 2") and out.caution == "careful"
    assert out.like([{"subject": "Order online", "written_by": "brief"}]).caution == "careful"  # the ideas
    assert best_of_n(Engine(["I'm a bot"]), chat, model_ideas=True, caution="careful",
                     check=lambda texts: [["role-play"] if "I'm" in t else [] for t in texts],
                     **shorter_first).caution == ""  # nothing of the model's shown: nothing to caution


def test_three_variants_asked_are_three_lines_not_one_with_and_without_a_sign_off():
    from botkit.decoding import DecodingOptions

    brief = "Free descaling demo at our Portland shop, Saturday at 11 a.m."
    composed = [f"{brief}", f"{brief} Simple as that.", f"{brief} Good things, brought to the boil.",
                "Saturday at 11 a.m.: free descaling demo at our Portland shop",
                "Free descaling demo at our Portland shop"]
    out = best_of_n(Engine([]), [{"role": "user", "content": brief}], samples=2, keep=3, limit=120,
                    scorer=lambda texts: [0.0] * len(texts), decoding=DecodingOptions(), composed=composed,
                    prefer_brief=True, model_ideas=True, ideas=False, brief=brief)
    # The signed-off copies are left out; a shorter line that drops some of the brief's words is another variant.
    assert [c.text for c in out] == [brief, composed[3], composed[4]]
    fewer = best_of_n(Engine([]), [{"role": "user", "content": brief}], samples=2, keep=3, limit=120,
                      scorer=lambda texts: [0.0] * len(texts), decoding=DecodingOptions(), composed=composed[:3],
                      prefer_brief=True, model_ideas=True, ideas=False, brief=brief)
    assert [c.text for c in fewer] == [brief] and "the same line with another ending (2)" in fewer.note


def test_a_headline_may_be_a_label_of_the_brief():
    heads = compose("Kettlebrook Descaling Tablets, 12 for $14", 25, kind="headline", brand="Kettlebrook")
    assert {"Descaling Tablets", "12 for $14"} <= set(heads) and all(len(h) <= 25 for h in heads)
    assert "Zephyr Mini travel kettle" in compose("The Zephyr Mini travel kettle, $59, dual voltage 110 to 240 volts",
                                                  25, kind="headline")
    # A name is kept whole: "Kettlebrook Circle" is the program, not the brand.
    circle = "Kettlebrook Circle, our loyalty program: 1 point for every $1, no fee"
    assert not any(h.startswith("Circle") for h in compose(circle, 30, kind="headline", brand="Kettlebrook"))


def test_a_headline_may_be_a_name_the_brief_gives_but_not_one_of_a_list():
    assert "Click-and-collect orders are held" not in compose(
        "Click-and-collect orders are held for 14 days at the shop you picked", 40, kind="headline")
    assert "No registration, proof of purchase only." in compose(
        "The Kettlebrook warranty: no registration, proof of purchase only", 90, kind="description")
    bundle = compose("The Brew Bundle: a Millrace Burr Grinder and a Heron Gooseneck Kettle for $219", 30,
                     kind="headline")
    assert {"Millrace Burr Grinder", "Heron Gooseneck Kettle"} <= set(bundle)
    assert not {"Apple Pay", "Google Pay"} & set(compose("Apple Pay, Google Pay and PayPal now accepted online", 30,
                                                         kind="headline"))


def test_an_ads_description_may_say_what_follows_its_headline():
    descs = compose("The Zephyr Mini travel kettle, $59, dual voltage 110 to 240 volts", 90, kind="description")
    assert "$59, dual voltage 110 to 240 volts." in descs
    assert "With Klarna on orders of $100 or more." in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 90, kind="description")
    assert "With Klarna on orders of $100 or more." not in compose(
        "Pay in four interest-free installments with Klarna on orders of $100 or more", 90, kind="post")


def test_asking_for_several_lines_gives_several_shapes_of_the_brief_not_one_with_other_endings():
    # A made-up brand's closing: the first lines are the brief whole and led by its time, bare (a blind reader
    # found a closing after hours or dates jarring), and only then the same again with another ending.
    lines = compose("Day-old bread at half price after 4 p.m.", 280, ["fresh as that"], "post")
    assert lines[:2] == ["Day-old bread at half price after 4 p.m.", "After 4 p.m.: day-old bread at half price."]
    assert "Day-old bread at half price after 4 p.m. Fresh as that." in lines[2:]


def test_a_subject_line_may_lead_with_the_price_the_brief_lists_and_never_drops_it():
    classes = compose("Bread-baking classes on Sunday mornings, $45 a seat", 60)
    assert classes == ["Bread-baking classes on Sunday mornings, $45 a seat",
                       "$45 a seat: bread-baking classes on Sunday mornings"]  # a word, not a name: lower case
    # "four" of "four-slice" is no offer: a shortened line keeps the listed price or is not made.
    toaster = compose("The Ashby four-slice toaster in slate blue, $79, with a five-year warranty", 60)
    assert toaster and all("$79" in line for line in toaster)
    assert compose("Wrenfield gift boxes, $30 each, packed by hand", 60)[1] == (
        "$30 each: Wrenfield gift boxes, packed by hand")  # a name keeps its capital
    # A date is no headline: "March 20" over an ad about hot cross buns says nothing.
    assert "March 20" not in compose("Hot cross buns are back, from March 20 until April 5", 30, kind="headline")
