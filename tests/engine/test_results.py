import numpy as np
import pytest

from vidseg.engine.results import ResultStore, decode_labels, encode_labels


@pytest.mark.parametrize("labels", [
    np.array([[0, 0, 1], [1, 2, 2]], np.uint8),
    np.zeros((3, 5), np.uint8),
    np.full((2, 2), 255, np.uint8),
    np.zeros((0, 4), np.uint8),
])
def test_round_trip_is_exact(labels):
    assert np.array_equal(decode_labels(encode_labels(labels)), labels)


def test_runs_are_row_major_with_exclusive_ends():
    labels = np.zeros((2, 20), np.uint8)
    labels[0, 15:] = 1
    labels[1, :5] = 1
    labels[1, 12:] = 2
    encoded = encode_labels(labels)
    assert encoded.raw is None
    assert encoded.ends.tolist() == [15, 25, 32, 40] and encoded.values.tolist() == [0, 1, 0, 2]


def test_noise_is_kept_raw_so_it_never_grows():
    noise = np.random.default_rng(0).integers(0, 4, (40, 50)).astype(np.uint8)
    encoded = encode_labels(noise)
    assert encoded.raw is not None and encoded.nbytes == noise.nbytes
    assert np.array_equal(decode_labels(encoded), noise)


def test_store_returns_copies_and_none_for_unsegmented_frames():
    store = ResultStore()
    labels = np.eye(4, dtype=np.uint8)
    store.put(3, labels)
    got = store.get(3)
    got[0, 0] = 9
    assert np.array_equal(store.get(3), labels) and store.get(2) is None
    assert 3 in store and len(store) == 1


def test_encode_refuses_other_than_2d_uint8():
    with pytest.raises(ValueError):
        encode_labels(np.zeros((2, 2), np.int32))
