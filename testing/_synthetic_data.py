"""Deterministic synthetic test data: users, conversations and documents from one seed.

The seed is recorded in every report, so any run can be reproduced exactly. Text is built from
small topic vocabularies, so documents differ in content enough for retrieval to have a right
answer: each document carries a unique "fact" sentence, and :attr:`FFSyntheticDocument.probe`
is a question whose answer is in that document only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["FFSyntheticData", "FFSyntheticUser", "FFSyntheticConversation", "FFSyntheticDocument", "generate_synthetic_data"]

_TOPICS: dict[str, tuple[str, ...]] = {
    "astronomy": ("planet", "orbit", "telescope", "nebula", "comet", "galaxy", "eclipse", "asteroid"),
    "cooking": ("recipe", "oven", "saffron", "risotto", "simmer", "dough", "marinade", "braise"),
    "gardening": ("compost", "seedling", "pruning", "mulch", "tomato", "trellis", "perennial", "soil"),
    "finance": ("budget", "invoice", "interest", "ledger", "dividend", "mortgage", "audit", "payroll"),
    "travel": ("itinerary", "passport", "luggage", "ferry", "hostel", "visa", "layover", "museum"),
    "music": ("chord", "melody", "tempo", "violin", "rhythm", "harmony", "sonata", "drummer"),
}
_FILLER = ("the", "a", "about", "with", "for", "when", "because", "usually", "often", "really", "some", "every")
_NAMES = ("alice", "bruno", "chen", "dara", "emeka", "farah", "goran", "hana", "ivan", "jo", "kemal", "lena")


@dataclass(frozen=True, slots=True)
class FFSyntheticDocument:
    doc_key: str
    topic: str
    title: str
    content: str
    fact: str
    probe: str


@dataclass(frozen=True, slots=True)
class FFSyntheticConversation:
    title: str
    topic: str
    turns: tuple[tuple[str, str], ...]  # (role, content)


@dataclass(frozen=True, slots=True)
class FFSyntheticUser:
    user_id: str
    display_name: str
    favourite_topic: str
    conversations: tuple[FFSyntheticConversation, ...]


@dataclass(frozen=True, slots=True)
class FFSyntheticData:
    seed: int
    users: tuple[FFSyntheticUser, ...]
    documents: tuple[FFSyntheticDocument, ...] = field(default=())


def _sentence(rng: random.Random, topic: str, words: int = 10) -> str:
    vocab = _TOPICS[topic]
    picked = [rng.choice(vocab) if rng.random() < 0.45 else rng.choice(_FILLER) for _ in range(words)]
    return picked[0].capitalize() + " " + " ".join(picked[1:]) + "."


def _document(rng: random.Random, index: int) -> FFSyntheticDocument:
    topic = rng.choice(sorted(_TOPICS))
    code = f"{rng.randrange(16**6):06x}"
    subject = rng.choice(_TOPICS[topic])
    fact = f"The reference code for the {subject} guide number {index} is {code}."
    paragraphs = [" ".join(_sentence(rng, topic) for _ in range(4)) for _ in range(3)]
    paragraphs.insert(rng.randrange(len(paragraphs) + 1), fact)
    title = f"{topic.capitalize()} notes {index}: {subject}"
    content = f"# {title}\n\n" + "\n\n".join(paragraphs)
    return FFSyntheticDocument(
        doc_key=f"doc{index:04d}", topic=topic, title=title, content=content, fact=fact,
        probe=f"reference code {subject} guide number {index}",
    )


def generate_synthetic_data(
    seed: int, *, users: int = 4, conversations_per_user: int = 2, turns_per_conversation: int = 6, documents: int = 12
) -> FFSyntheticData:
    """Build the data set; the same arguments always give the same data."""
    rng = random.Random(seed)
    built_users = []
    for u in range(users):
        name = _NAMES[u % len(_NAMES)]
        topic = rng.choice(sorted(_TOPICS))
        conversations = []
        for c in range(conversations_per_user):
            conv_topic = topic if c == 0 else rng.choice(sorted(_TOPICS))
            turns = tuple(
                ("user" if t % 2 == 0 else "assistant", _sentence(rng, conv_topic, rng.randint(6, 18)))
                for t in range(turns_per_conversation)
            )
            conversations.append(FFSyntheticConversation(title=f"{conv_topic} chat {c + 1}", topic=conv_topic, turns=turns))
        built_users.append(
            FFSyntheticUser(
                user_id=f"user_{name}_{u:02d}", display_name=name.capitalize(), favourite_topic=topic,
                conversations=tuple(conversations),
            )
        )
    docs = tuple(_document(rng, i) for i in range(documents))
    return FFSyntheticData(seed=seed, users=tuple(built_users), documents=docs)
