"""Which pairs are worth ranking: a best-of-N's winner against each other candidate."""

from botkit.feedback.worth_ranking import best_versus_rest


def fails(text: str) -> list[str]:
    """A stand-in for the copy checks: every 'wrong' is one failed check."""
    return ["invented facts"] * text.count("wrong")


def test_the_best_of_n_faces_each_other_candidate_that_differs_in_substance():
    texts = ["The kettle is wrong and wrong again, sadly.",
             "The Zephyr 3000 holds 1.7 litres and boils in four minutes.",
             "The kettle costs a wrong price today.",
             "The Zephyr 3000 holds 1.7 litres and boils in four minutes!"]  # the best but for one mark
    # The one failing no check is the best; the near-copy of it is no pair a person could decide.
    assert best_versus_rest(texts, fails) == [(1, 0), (1, 2)]


def test_among_candidates_failing_alike_the_shortest_is_best():
    texts = ["A wrong and very long answer about kettles and their many parts.", "A wrong short reply."]
    assert best_versus_rest(texts, fails) == [(1, 0)]
    assert best_versus_rest(texts[:1], fails) == []
