"""The words a question opens with, in one place so that every module reading questions reads the same ones.
Regex fragments (non-capturing alternations, in lower case); a module that reads more words (was, were, shall, may ...)
adds them beside these where it builds its pattern."""

# The wh- words that ask for a fact. A pattern that ends the word at \b reads "what's" by its "what".
WH_WORDS = r"(?:how|what|when|where|which|who|why)"
# The same as customers type them: "whats" without its apostrophe too.
WH_WORDS_AS_TYPED = rf"(?:{WH_WORDS}|whats)"
# The auxiliaries that open a yes/no question ("Do you ...", "Can I ...", "Is there ...").
AUXILIARIES = r"(?:is|are|do|does|did|can|could|will|would|should|has|have)"
