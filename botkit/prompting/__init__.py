"""Prompt assembly: the brand profile, few-shot examples and the token budget."""
