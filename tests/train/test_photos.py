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
