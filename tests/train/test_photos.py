import numpy as np
import pytest
from PIL import Image

from tests.train.trainer_checks import write_photos
from vidseg.errors import InputError
from vidseg.train.photos import load_photos, photo_folders



def test_photos_load_as_one_frame_sequences_shrunk_with_their_masks(tmp_path):
    store = load_photos(write_photos(tmp_path), max_side=60)
    assert store.names == ("set/0", "set/1", "set/2")
    assert store.frames[0].shape == (1, 45, 60, 3) and store.masks[0].shape == (1, 45, 60)
    assert set(np.unique(store.masks[1])) == {0, 1}


def test_a_folder_without_photos_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="holds no photos"):
        photo_folders(tmp_path)
    write_photos(tmp_path)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "set" / "masks" / "0.png")
    with pytest.raises(InputError, match="fix or remove the pair"):
        load_photos(tmp_path)


def test_separate_parts_become_objects_of_their_own_and_specks_none():
    from vidseg.train.photos import split_parts

    mask = np.zeros((40, 60), np.uint8)
    mask[5:20, 5:25] = 1  # 300 px
    mask[25:38, 30:55] = 1  # 325 px
    mask[2, 58] = 1  # a speck
    parts = split_parts(mask)
    assert set(np.unique(parts)) == {0, 1, 2}
    assert (parts[25:38, 30:55] == 1).all() and (parts[5:20, 5:25] == 2).all()  # larger first
    assert parts[2, 58] == 0
    assert split_parts(mask[:22]) is None  # one part only


def test_photos_with_several_parts_come_twice_when_asked(tmp_path):
    root = write_photos(tmp_path)
    mask = np.zeros((90, 120), np.uint8)
    mask[5:30, 5:40] = 255
    mask[50:85, 60:110] = 255
    Image.fromarray(mask).save(root / "set" / "masks" / "1.png")
    assert load_photos(root).names == ("set/0", "set/1", "set/2")
    store = load_photos(root, parts=True)
    assert store.names == ("set/0", "set/1", "set/1#parts", "set/2")
    assert store.masks[2].max() == 2 and store.masks[1].max() == 1


def test_the_train_and_validation_photo_splits_part_every_folder(tmp_path):
    from vidseg.eval.splits import PHOTO_VALIDATION_EVERY

    root = write_photos(tmp_path, count=PHOTO_VALIDATION_EVERY + 2)
    every = load_photos(root).names
    train, held = load_photos(root, split="train", parts=True).names, load_photos(root, split="validation").names
    assert set(train).isdisjoint(held) and sorted(train + held) == sorted(every)
    assert len(held) == 2  # positions 0 and 10 of the sorted names
    with pytest.raises(InputError, match="photo split"):
        load_photos(root, split="val")
