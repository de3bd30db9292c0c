"""Our splits of the DAVIS clips: validation never trained on, tuning clips never fitted on."""

from vidseg.eval import splits


def test_the_splits_part_the_thirty_clips():
    assert len(splits.ALL) == len(set(splits.ALL)) == 30
    assert set(splits.VALIDATION) | set(splits.TRAIN) == set(splits.ALL)
    assert not set(splits.VALIDATION) & set(splits.TRAIN)
    assert set(splits.TUNE) <= set(splits.TRAIN) and not set(splits.TUNE) & set(splits.FIT)
    assert set(splits.TUNE) | set(splits.FIT) == set(splits.TRAIN)


def test_every_tenth_photo_is_held_out():
    held = [p for p in range(30) if splits.photo_in_split(p, "validation")]
    assert held == [0, 10, 20]
    assert all(splits.photo_in_split(p, "train") != (p in held) for p in range(30))
    assert all(splits.photo_in_split(p, "all") for p in range(30))
