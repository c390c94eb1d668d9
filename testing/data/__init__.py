"""Reference data sets the validation platform measures against (corpora with questions)."""

from testing.data.pydoc_questions import PYDOC_QUESTIONS, load_pydoc_corpus, relevant_topics

__all__ = ["PYDOC_QUESTIONS", "load_pydoc_corpus", "relevant_topics"]
