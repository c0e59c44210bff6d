"""Writes reviews.jsonl, train.jsonl and test.jsonl from the hand-written fragments below.

Run from anywhere: `python examples/sentiment/make_reviews.py`. The output is deterministic (seed 7).
Every fifth clause and every fifth whole text is reserved for the test split, so test texts are
built from wording the training texts never contain (a fairer held-out estimate than a random split
of templated lines).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
PER_LABEL = 240

PRODUCTS = [
    "kettle", "toaster", "coffee grinder", "blender", "headset", "phone case", "charger", "laptop stand",
    "smart scale", "backpack", "rain jacket", "desk lamp", "air fryer", "vacuum", "smartwatch", "keyboard",
    "mattress", "water bottle", "office chair", "router", "printer", "yoga mat",
    "frying pan", "hair dryer", "bluetooth speaker", "sofa", "tent", "camera",
]
BRANDS = ["@kettlebrook", "@ShopNorth", "@BrightCell", "@PackRight", "@urbanhome", "@FastParcel"]

# Clauses that carry the sentiment; {p} is a product.
CLAUSES = {
    "positive": [
        "the {p} arrived two days early and works perfectly",
        "honestly the best {p} I've owned",
        "really happy with this {p}",
        "the {p} is solid, quiet and looks great on the counter",
        "support replaced my {p} without any fuss",
        "my {p} still works like new after a year of daily use",
        "the {p} was worth every penny",
        "so glad I finally bought this {p}",
        "the {p} does exactly what it promises",
        "five stars for the {p}, would buy again",
        "the customer service team was patient and sorted everything out in one call",
        "delivery was fast and the packaging was neat",
        "the {p} exceeded my expectations",
        "my partner loves the {p} I got for our anniversary",
        "setup took five minutes and the {p} just works",
        "the new update made the {p} so much faster",
        "great value for the price",
        "the staff at the store were lovely and really helpful",
        "I've recommended the {p} to everyone at work",
        "the {p} feels well made and sturdy",
        "impressed by how comfortable the {p} is",
        "refund came through the same day, thank you",
        "the {p} is a game changer for my mornings",
        "I was skeptical but the {p} won me over",
        "the battery on the {p} lasts for days",
        "lovely little {p}, does the job beautifully",
        "the chat agent fixed my problem in minutes",
        "this {p} made my life easier",
        "quality is excellent and it shipped fast",
        "the {p} is gorgeous in person",
        "no complaints at all, the {p} is great",
        "what a pleasant surprise, the {p} is brilliant",
        "they went above and beyond to get my order to me before the holiday",
        "the {p} is easy to clean, which I love",
        "very pleased with the {p} so far",
        "it's rare to get service this good these days",
        "the {p} keeps getting better with every update",
        "the sound quality on the {p} is amazing",
        "my kids adore the {p}",
        "the {p} paid for itself within a month",
        "top notch {p}, highly recommend",
        "finally a {p} that doesn't fall apart",
        "the return was painless and the replacement is perfect",
        "the {p} is comfy, light and looks smart",
        "couldn't be happier with my {p}",
        "the whole checkout experience was smooth",
        "thank you for the quick reply and the discount code",
        "the {p} fits perfectly and the color is spot on",
        "love love love the {p}",
        "this is my third {p} from them and they never disappoint",
    ],
    "negative": [
        "the {p} stopped working after two weeks",
        "worst {p} I have ever bought",
        "really disappointed with this {p}",
        "the {p} is loud, flimsy and already scratched",
        "support keeps sending me the same useless template",
        "my {p} broke on the first day",
        "the {p} was a complete waste of money",
        "I regret buying this {p}",
        "the {p} does not do what the listing claims",
        "one star, the {p} is going back",
        "I've been on hold for over an hour",
        "the parcel arrived crushed and the {p} was damaged",
        "the {p} is way below my expectations",
        "still waiting for my refund three weeks later",
        "the {p} overheats after ten minutes",
        "the latest update made the {p} unusable",
        "overpriced for what you get",
        "the staff were rude and didn't care at all",
        "I would not recommend the {p} to anyone",
        "the {p} feels cheap and poorly made",
        "the {p} is so uncomfortable I can't use it",
        "you charged me twice and nobody is answering",
        "the {p} leaks every single time",
        "my order was cancelled with no explanation",
        "the battery on the {p} dies in a couple of hours",
        "the {p} smelled like burnt plastic out of the box",
        "the chat bot just goes in circles",
        "this {p} made everything harder",
        "terrible quality and shipping took a month",
        "the {p} looks nothing like the photos",
        "so many problems with this {p}",
        "the {p} is a total letdown",
        "they lost my package and now blame me",
        "the {p} is impossible to clean",
        "very unhappy with the {p}",
        "customer service is a joke",
        "the {p} gets worse with every update",
        "the sound on the {p} crackles constantly",
        "the {p} broke and they refuse to honor the warranty",
        "the {p} was dead on arrival",
        "avoid this {p}, seriously",
        "the {p} fell apart within a month",
        "the return process is a nightmare",
        "the {p} is heavy, clunky and ugly",
        "never ordering from them again",
        "the website crashed three times during checkout",
        "nobody has replied to my emails in ten days",
        "the {p} is the wrong size and the exchange costs extra",
        "I hate this {p}",
        "second {p} from them to fail, I'm done",
    ],
    "neutral": [
        "the {p} arrived today",
        "does the {p} come with a warranty?",
        "I ordered the {p} in grey",
        "is the {p} available in other colors?",
        "my {p} is scheduled for delivery on Thursday",
        "how do I reset the {p} to factory settings?",
        "the {p} comes in two sizes",
        "I'm comparing this {p} with a couple of others",
        "can I return the {p} if it's unopened?",
        "the {p} uses a standard USB-C cable",
        "what are your opening hours on Sunday?",
        "my order number is in the email above",
        "the {p} weighs about two kilos",
        "I'd like to change my delivery address",
        "does the {p} work with 220V outlets?",
        "picked up the {p} from the store this afternoon",
        "is there a manual for the {p} online?",
        "the {p} is the same model as last year's, just a new color",
        "we're moving next month, can you hold the order?",
        "the {p} has three speed settings",
        "which {p} would you suggest for a small flat?",
        "I'm returning the {p} because I ordered two by mistake",
        "the sale starts on Friday",
        "the {p} is made in Portugal according to the label",
        "where can I find the serial number on the {p}?",
        "they opened a new store downtown",
        "the {p} ships in a plain brown box",
        "do you deliver to Canada?",
        "I use the {p} mostly on weekends",
        "the {p} was a gift so I don't know the price",
        "it's the {p} with the black handle",
        "tracking says the parcel is in the local depot",
        "does the {p} need to be assembled?",
        "I have the older version of the {p}",
        "what's the difference between the two {p} models?",
        "the {p} is listed under home and kitchen",
        "please send the invoice to my work email",
        "I'll be at the pickup point after 5pm",
        "can I pay for the {p} in installments?",
        "the {p} takes about an hour to charge",
        "just signed up for the newsletter",
        "is the {p} dishwasher safe?",
        "the box says the {p} is for indoor use only",
        "I switched from the monthly plan to the yearly one",
        "the replacement part number is on the receipt",
        "is there a student discount on the {p}?",
        "the {p} I ordered is the 2023 model",
        "I need the {p} by the 14th if possible",
        "updated the {p} to the latest firmware",
        "how long is the warranty on the {p}?",
    ],
}

OPENERS = {
    "positive": ["", "", "", "Wow. ", "Update: ", "Quick review: ", "Okay so ", "Just want to say ", "Honestly, "],
    "negative": ["", "", "", "Ugh. ", "Update: ", "Quick review: ", "Okay so ", "Seriously, ", "Honestly, "],
    "neutral": ["", "", "", "Hi, ", "Hello, ", "Quick question: ", "Update: ", "FYI ", "Hey, "],
}
EXTRAS = {
    "positive": ["", "", "", " Thanks!", " Great job.", " 10/10.", " Will order again.", " Very happy.",
                 " Made my week.", " Keep it up."],
    "negative": ["", "", "", " Not happy.", " Fix this.", " So frustrating.", " Avoid.", " Unacceptable.",
                 " What a joke."],
    "neutral": ["", "", "", " Thanks.", " Let me know.", " Order #48213.", " Cheers.", " Just checking.",
                " No rush."],
}
EMOJI = {"positive": [" 😊", " 🙌", " ❤️", " 👍"], "negative": [" 😡", " 🙄", " 👎", " 😤"], "neutral": [" 📦", " 🤔", ""]}
HASHTAGS = {"positive": [" #happycustomer", " #love"], "negative": [" #fail", " #customerservice"],
            "neutral": [" #question", " #shopping"]}

# Whole texts: longer reviews, mixed feelings with a clear overall verdict, sarcasm (sparingly),
# and everyday tweet-like posts.
WHOLE = {
    "positive": [
        "Bought this for my mum who struggles with stiff lids and she says it's the best thing I've got her in years.",
        "Was worried the color would be off from the photos but it's exactly right. Fits the kitchen perfectly.",
        "The screen scratches a bit easily but honestly for this price it's a fantastic little device. Keeping it.",
        "Took it camping for a week, rained every day, stayed bone dry inside. Impressed.",
        "Not usually one to write reviews but the support team deserves a shout out. Sorted my issue on a Sunday night!",
        "had my doubts about ordering shoes online but these fit like a glove",
        "New job starts Monday and I could not be more excited!",
        "What a match last night, still buzzing",
        "Sunday brunch with the whole family, perfect day",
        "The concert was incredible, best night of the year so far",
        "finally finished my thesis!!! so relieved and proud",
        "The new season is even better than the first one. Binged it all weekend.",
        "Our flight was delayed but the crew handled it so well and even handed out snacks. Great airline.",
        "First week using the app to track my budget and I've already saved more than I expected.",
        "It's not fancy but it is reliable, quiet and cheap to run. Exactly what we needed.",
        "Three months in and this vacuum still picks up every bit of dog hair. Money well spent.",
        "Shout out to the delivery driver who carried the sofa up four flights of stairs with a smile",
        "This coffee place never misses. Best flat white in town.",
        "Got a handwritten thank you note in my package, such a nice touch",
        "Love the new layout of the website, so much easier to find things",
        "Thanks for fixing the bug so quickly, the app works perfectly now",
        "the hotel upgraded us for our honeymoon, what a lovely surprise",
        "Can't believe how good this cheap little speaker sounds",
        "Was about to cancel but the retention team actually listened and fixed my plan. Staying!",
        "The instructions were clear and I put the whole desk together alone in 30 minutes.",
        "Beautiful weather for the marathon today, crushed my personal best",
        "My new glasses arrived and I can finally see the board at school properly, thank you!",
        "The chef came out to check on our table. Food was outstanding.",
        "Switched banks last month and the difference is night and day. Everything is so easy now.",
        "Five years and this backpack has been through three countries. Still going strong.",
        "The trailer looks amazing, can't wait for the movie",
        "Puppy's first day home went better than we hoped",
        "Nice to see a company actually own up to a mistake and make it right. Respect.",
        "This blender crushes ice like nothing. Smoothies every morning now.",
        "So grateful for the nurses at the clinic today, they were wonderful",
        "The refurbished laptop I bought looks brand new and runs like a dream.",
        "Great game from the team tonight, well deserved win",
        "Honestly didn't expect much from a budget brand but this kettle is lovely.",
        "The library's new reading room is beautiful and so quiet",
        "Cheaper than the big brands and it works better. Win win.",
        "best customer experience I've had all year, no exaggeration",
        "Our package was stuck at customs and they sent a replacement by express without us even asking.",
        "The update fixed the battery drain, phone lasts all day again",
        "Tried the new vegan menu, really tasty and filling",
        "Stayed three nights, spotless rooms and the breakfast was great.",
    ],
    "negative": [
        "Bought this for my mum and it broke the second time she used it. Embarrassing gift.",
        "The color is nothing like the photos, it's a muddy brown. Sending it back.",
        "The screen is lovely but it crashes every few hours, which makes it useless for work. Returning it.",
        "Took it camping once and the zip broke on the first night. Freezing.",
        "Not usually one to complain but I've emailed support five times and got nothing back.",
        "ordered shoes in my usual size and they're two sizes too small. great. another return.",
        "Oh great, another update that deletes all my settings. Love that for me.",
        "Flight cancelled, no explanation, and the rebooking line hangs up on you",
        "Sunday ruined by a burst pipe and a landlord who won't pick up the phone",
        "The concert sound was awful, couldn't hear the vocals at all",
        "the new season is so boring, gave up after two episodes",
        "Third time this month the train is late and I'm late for work again",
        "Wonderful, the app logged me out in the middle of paying. Again.",
        "It's cheap, I'll give it that. Everything else about it is bad.",
        "Three months in and the vacuum barely picks anything up. The suction is gone.",
        "The delivery driver left our sofa in the rain outside the building",
        "This coffee place has gone downhill, burnt coffee and 20 min waits",
        "My package said delivered but it's nowhere to be found and support doesn't care",
        "The new website layout is a mess, I can't find anything anymore",
        "The bug you 'fixed' is still there. Please stop closing my ticket.",
        "the hotel room smelled of smoke and the AC didn't work",
        "Paid extra for express shipping and it came a week late",
        "Tried to cancel my subscription and they kept charging me for three months",
        "The instructions were missing half the steps and two screws were not in the box.",
        "Waited two hours at the clinic and then they cancelled my appointment",
        "My new glasses are already loose and the lens popped out",
        "Food was cold and the waiter ignored us for half an hour",
        "Switched banks last month and regret it every day. Card declined twice this week.",
        "Backpack strap snapped on the first trip. So much for 'lifetime quality'.",
        "The trailer gave away the whole plot, what were they thinking",
        "Can a company just admit when they messed up? Apparently not.",
        "This blender can't even crush a banana properly",
        "The refurbished laptop came with a cracked hinge and someone else's files on it.",
        "Terrible game tonight, they threw it away in the last five minutes",
        "I paid for premium and still get ads every two minutes",
        "The phone battery drains overnight even in airplane mode since the update",
        "The new menu is overpriced and the portions are tiny",
        "Stayed two nights, dirty towels, noisy pipes and a rude front desk.",
        "Thanks for nothing. Still no refund.",
        "I love waiting 45 minutes for a 'quick' support chat. Really.",
        "Looks nice, but it stopped charging after a week. Disappointed.",
        "Gym membership cancelled? Nope, charged again. This is the third time.",
        "The heating broke again and it's -5 outside",
        "Why does every update make this app slower",
        "Honestly the worst customer experience I've had in years.",
    ],
    "neutral": [
        "Bought this as a gift for my mum, she hasn't opened it yet.",
        "The listing shows two colors, is the blue one in stock?",
        "The screen is 13 inches and it weighs about 1.2 kg.",
        "Taking the tent on a camping trip next weekend.",
        "Emailed support this morning about changing the delivery date.",
        "Ordered shoes in size 42, they should arrive on Tuesday.",
        "The update is rolling out to all users this week.",
        "Flight to Lisbon boards at gate 12 at 7:40.",
        "Sunday plans: laundry, groceries and a call with my sister.",
        "The concert starts at 8 and doors open at 7.",
        "the new season comes out on the 3rd of next month",
        "Train to Leeds is running on the usual timetable today.",
        "The app now has a dark mode option in the settings menu.",
        "The vacuum comes with three attachments and a wall mount.",
        "Our sofa delivery is booked for the morning slot.",
        "The cafe on the corner changed its opening hours to 8am.",
        "Package is out for delivery according to the tracking page.",
        "The website will be down for maintenance tonight from 1 to 3 am.",
        "Ticket number is 55012 if you need it.",
        "Checked into the hotel, room 412.",
        "Express shipping costs 9.99 and takes two working days.",
        "How do I cancel my subscription before the renewal date?",
        "The desk comes flat packed with the tools included.",
        "Appointment at the clinic moved to Wednesday at 10.",
        "Picking up my new glasses on Friday.",
        "Is the restaurant open on bank holidays?",
        "I'm thinking of switching to a different bank, what are the fees like?",
        "The backpack has a 30 litre capacity and a laptop sleeve.",
        "The trailer for the sequel dropped this morning.",
        "Does the company offer a price match?",
        "The blender has a 1.5 litre jug and six speed settings.",
        "Refurbished laptops come with a 12 month warranty.",
        "The game kicks off at 3pm on Saturday.",
        "Premium plan is 12 dollars a month, basic is 6.",
        "The phone update is about 2GB so use wifi.",
        "They're adding a vegetarian section to the menu next month.",
        "Staying two nights in Porto for a conference.",
        "Received an email asking me to confirm my address.",
        "Gym is closed on Monday for cleaning.",
        "The heating engineer is coming between 9 and 12 tomorrow.",
        "What version of the app are you on?",
        "Reading reviews before I decide which one to buy.",
        "Anyone know if the store takes cash?",
        "Meeting moved to 3pm, same room.",
        "Forecast says light rain in the afternoon.",
    ],
}


def split_of(index: int) -> str:
    return "test" if index % 5 == 0 else "train"


def styled(text: str, label: str, rng: random.Random) -> str:
    """Tweet-like variation: lowercase, a mention, a hashtag or an emoji, some of the time."""
    if rng.random() < 0.15:
        text = f"{rng.choice(BRANDS)} {text}"
    if rng.random() < 0.12:
        text += rng.choice(EMOJI[label])
    if rng.random() < 0.08:
        text += rng.choice(HASHTAGS[label])
    if rng.random() < 0.2:
        text = text.lower()
    return text


def templated(label: str, clause: str, rng: random.Random) -> str:
    body = clause.format(p=rng.choice(PRODUCTS))
    opener = rng.choice(OPENERS[label])
    body = body if opener and not opener.endswith(". ") else body[0].upper() + body[1:]
    extra = rng.choice(EXTRAS[label])
    end = "" if body.endswith(("?", "!", ".")) else rng.choice([".", "!" if label == "positive" else "."] + ([""] * (not extra)))
    return styled(f"{opener}{body}{end}{extra}", label, rng)


def build(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for label in ("positive", "negative", "neutral"):
        for split in ("train", "test"):
            wholes = [t for i, t in enumerate(WHOLE[label]) if split_of(i) == split]
            clauses = [c for i, c in enumerate(CLAUSES[label]) if split_of(i) == split]
            want = PER_LABEL * (4 if split == "train" else 1) // 5
            texts = [styled(t, label, rng) for t in wholes]
            seen = set(texts)
            while len(texts) < want:
                text = templated(label, rng.choice(clauses), rng)
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
            rows += [{"text": t, "label": label, "split": split} for t in texts]
    rng.shuffle(rows)
    return rows


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


if __name__ == "__main__":
    rows = build()
    write(HERE / "reviews.jsonl", rows)
    write(HERE / "train.jsonl", [r for r in rows if r["split"] == "train"])
    write(HERE / "test.jsonl", [r for r in rows if r["split"] == "test"])
    print(f"{len(rows)} texts written to {HERE}")
