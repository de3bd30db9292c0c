import numpy as np
import pytest

from vidseg.engine.objects import ObjectManager
from vidseg.errors import InputError


def test_slots_follow_first_appearance_and_round_trip():
    objects = ObjectManager()
    labels = np.array([[0, 7], [3, 7]], dtype=np.uint8)
    slots = objects.ids_to_slots(labels)
    # 3 is seen first by np.unique order, then 7
    assert objects.ids == [3, 7]
    assert slots.tolist() == [[0, 2], [1, 2]]
    assert np.array_equal(objects.slots_to_ids(slots), labels)


def test_slot_is_kept_when_an_object_returns():
    objects = ObjectManager()
    objects.ids_to_slots(np.array([[1, 2]], dtype=np.uint8))
    objects.ids_to_slots(np.array([[5, 0]], dtype=np.uint8))
    assert objects.ids_to_slots(np.array([[2, 0]], dtype=np.uint8)).tolist() == [[2, 0]]
    assert objects.slot(5) == 3


@pytest.mark.parametrize("bad", [0, 256, -1])
def test_out_of_range_ids_are_refused(bad):
    with pytest.raises(InputError, match="out of range"):
        ObjectManager().add(bad)


def test_unknown_object_lookup_says_what_to_do():
    with pytest.raises(InputError, match="add it with a mask"):
        ObjectManager().slot(4)
