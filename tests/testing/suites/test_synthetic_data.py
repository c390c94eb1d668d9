from testing._synthetic_data import generate_synthetic_data


def test_same_seed_same_data_and_different_seed_different_data():
    assert generate_synthetic_data(7) == generate_synthetic_data(7)
    assert generate_synthetic_data(7) != generate_synthetic_data(8)


def test_shape_and_unique_facts():
    data = generate_synthetic_data(3, users=3, conversations_per_user=2, turns_per_conversation=4, documents=10)
    assert len(data.users) == 3 and all(len(u.conversations) == 2 for u in data.users)
    assert len({u.user_id for u in data.users}) == 3
    assert all(len(c.turns) == 4 and c.turns[0][0] == "user" for u in data.users for c in u.conversations)
    assert len({d.fact for d in data.documents}) == 10
    assert all(d.fact in d.content for d in data.documents)
