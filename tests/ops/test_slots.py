import numpy as np

from vidseg.ops.slots import apply_prompt, one_hot, pad_slots, to_slots


def test_one_hot_and_argmax_are_inverse():
    slots = np.array([[0, 1], [2, 2]], dtype=np.uint8)
    probs = one_hot(slots, 3)
    assert probs.shape == (3, 2, 2)
    assert probs.sum(axis=0).tolist() == [[1, 1], [1, 1]]
    assert np.array_equal(to_slots(probs), slots)


def test_pad_slots_adds_empty_channels_only_when_needed():
    probs = one_hot(np.zeros((2, 2), dtype=np.uint8), 2)
    grown = pad_slots(probs, 4)
    assert grown.shape == (4, 2, 2) and grown[2:].sum() == 0
    assert pad_slots(probs, 2) is probs


def test_prompt_wins_and_leaves_other_objects_alone():
    # object 1 on the left column, object 2 on the right column
    probs = one_hot(np.array([[1, 2], [1, 2]], dtype=np.uint8), 3)
    # the prompt redraws object 1 as the top row only (taking a pixel of object 2)
    prompt = np.array([[1, 1], [0, 0]], dtype=np.uint8)
    out = apply_prompt(probs, prompt, [1])
    assert to_slots(out).tolist() == [[1, 1], [0, 2]]
    assert np.allclose(out.sum(axis=0), 1.0)


def test_to_slots_matches_argmax_including_ties():
    rng = np.random.default_rng(0)
    probs = rng.random((4, 30, 40)).astype(np.float32)
    probs[:, :5] = 0.25  # ties everywhere: the lowest slot wins, as with argmax
    assert np.array_equal(to_slots(probs), np.argmax(probs, axis=0).astype(np.uint8))
