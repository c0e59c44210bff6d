import pytest

from botkit.errors import BotkitError
from botkit.prompting.brand import load_brand, sample_brand_dir
from botkit.prompting.fewshot import FewShotExamples, load_examples

EXAMPLES = [
    {"input": "Hi there!", "output": "Hello! How can I help?"},
    {"input": "Good morning", "output": "Morning! What can I do for you?"},
    {"input": "My order never arrived", "output": "I'm sorry: send us your order number and we'll track it."},
    {"input": "Where is my parcel?", "output": "Let's find it: what's your order number?"},
    {"input": "How do I descale my kettle?", "output": "Fill it with equal parts vinegar and water, boil, rinse."},
]


def test_sample_brand_becomes_the_system_prompt():
    brand = load_brand()
    prompt = brand.system_prompt()
    assert brand.name == "Kettlebrook" and "Kettlebrook" in prompt
    assert all(word in prompt for word in brand.words_to_avoid)
    assert brand.dont_know


def test_bad_brand_files_are_clear_errors(tmp_path):
    with pytest.raises(BotkitError, match="not found"):
        load_brand(tmp_path / "nope.yaml")
    (tmp_path / "brand.yaml").write_text("name: X\nslogan: typo\n")
    with pytest.raises(BotkitError, match="slogan"):
        load_brand(tmp_path)
    (tmp_path / "brand.yaml").write_text("voice: [warm]\n")
    with pytest.raises(BotkitError, match="name"):
        load_brand(tmp_path)


def test_similar_examples_are_selected_most_relevant_first(embedder):
    few = FewShotExamples(EXAMPLES, embedder, k=2)
    picked = few.select("My parcel has not arrived yet")
    assert {e["input"] for e in picked} == {"My order never arrived", "Where is my parcel?"}


def test_mmr_skips_near_duplicates(embedder):
    examples = EXAMPLES + [{"input": "Where is my parcel??", "output": "Let's find it!"}]
    query = "Where is my parcel? It never arrived"
    similar = [e["input"] for e in FewShotExamples(examples, embedder, k=2).select(query)]
    varied = [e["input"] for e in FewShotExamples(examples, embedder, k=2, selection="mmr").select(query)]
    assert set(similar) == {"Where is my parcel?", "Where is my parcel??"}
    assert varied[0] in similar and varied[1] not in similar


def test_fixed_examples_are_the_same_questions_for_every_message(embedder):
    # The same examples whatever is asked: the prompt's start repeats, so the engine reads it once.
    few = FewShotExamples(EXAMPLES, embedder, k=2, selection="fixed")
    first, second = few.select("My parcel has not arrived yet"), few.select("How do I descale my kettle?")
    assert first == second and len(first) == 2
    assert all(e["input"].endswith("?") for e in first)  # questions, not greetings, show how to answer
    assert FewShotExamples(EXAMPLES, embedder, k=0, selection="fixed").select("hi") == []
    # People's agreed choices are pinned first, so they reach every prompt.
    agreed = {"input": "Can I pay by invoice?", "output": "Yes: choose 'invoice' at checkout."}
    pinned = FewShotExamples(EXAMPLES + [agreed], embedder, k=2, selection="fixed", pinned=[agreed])
    assert pinned.select("Where is my parcel?")[0] == agreed and len(pinned.select("hi")) == 2


def test_sample_fewshot_file_loads_and_zero_k_selects_nothing(embedder):
    examples = load_examples(sample_brand_dir() / "fewshot.yaml")
    assert len(examples) >= 12
    assert FewShotExamples(examples, embedder, k=0).select("hi") == []


def test_malformed_fewshot_file_is_a_clear_error(tmp_path):
    (tmp_path / "f.yaml").write_text("examples:\n  - question: hi\n")
    with pytest.raises(BotkitError, match="input, output"):
        load_examples(tmp_path / "f.yaml")
