import pytest

from vidseg.errors import InputError
from vidseg.train.pretraining import MixedSamples
from vidseg.train.vos_trainer import VosTrainConfig



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
    for ratio in (1.5, -0.1, float("nan")):
        with pytest.raises(InputError, match="--photo-ratio"):
            VosTrainConfig(**base, photo_ratio=ratio)


@pytest.mark.parametrize("model", ["vos", "interactive", "tracker"])
def test_the_photo_ratio_help_states_the_default_the_config_uses(capsys, model):
    from vidseg.apps.cli import main
    from vidseg.train.pretraining import DEFAULT_PHOTO_RATIO

    with pytest.raises(SystemExit):
        main(["train", model, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"share of samples drawn from --photos (default: {DEFAULT_PHOTO_RATIO})" in text
