"""The training loop's checks: every bad option, a corrupt resume state and a batch that does not split
over --nproc are one-line errors before any frame is decoded, cached or a process is launched."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.apps.cli_checks import assert_user_error, run_command
from vidseg.apps import launch
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.errors import InputError
from vidseg.train import clips
from vidseg.train.loop import TrainRunConfig, check_run, read_state, resolve_device
from vidseg.train.vos_trainer import VosTrainConfig

MODELS = ["vos", "interactive", "tracker"]


@pytest.fixture
def data(tmp_path) -> Path:
    write_clip(render_clip(ClipConfig(height=48, width=64, num_frames=3, num_objects=1, seed=3)), tmp_path / "data", "clip")
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def no_decoding(monkeypatch):
    """Decoding the data fails the test: every refusal here must come before it (and its cache)."""
    monkeypatch.setattr(clips, "_decode", lambda *a, **k: pytest.fail("frames decoded before the refusal"))
    monkeypatch.setattr(launch, "launch", lambda *a, **k: pytest.fail("processes launched before the refusal"))
    monkeypatch.delenv("LOCAL_RANK", raising=False)


def train(capsys, data: Path, out: Path, model: str, *options) -> tuple[int, str]:
    code, _, err = run_command(capsys, ["train", model, "--data", data, "--sequences", "clip", "--out", out, *options])
    return code, err


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("option, value", [
    ("--batch-size", "0"), ("--batch-size", "-2"), ("--steps", "0"), ("--steps", "-5"), ("--workers", "-1"),
    ("--lr", "nan"), ("--lr", "inf"), ("--lr", "0"), ("--lr", "-0.1"), ("--seed", "-1"),
    ("--minutes", "0"), ("--minutes", "-1"), ("--minutes", "nan"), ("--minutes", "inf"),
    ("--scale", "0"), ("--scale", "1.5"), ("--scale", "nan"), ("--device", "gpu"), ("--device", "cuda:x"),
    ("--photo-ratio", "1.5"), ("--photo-ratio", "-0.1"), ("--photo-ratio", "nan"),
    ("--ema", "1"), ("--ema", "-0.1"), ("--ema", "nan"),
])
def test_each_bad_training_option_is_one_line_before_any_decoding(capsys, tmp_path, data, model, option, value):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", model, option, value)
    assert_user_error(code, err, option)
    assert not (tmp_path / "run").exists()  # no cache, no state, no log


@pytest.mark.parametrize("option", ["--thin-share", "--thin-attached", "--thin-faint", "--thin-focus", "--thin-click"])
@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan"])
def test_a_bad_thin_share_is_one_line_before_any_decoding(capsys, tmp_path, data, option, value):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", "interactive", option, value)
    assert_user_error(code, err, option)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["0.5", "nan", "inf"])
def test_a_bad_focus_zoom_is_one_line_before_any_decoding(capsys, tmp_path, data, value):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", "interactive", "--focus-zoom", value)
    assert_user_error(code, err, "--focus-zoom")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("model", MODELS)
def test_a_photo_ratio_without_photos_is_refused_not_ignored(capsys, tmp_path, data, model):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", model, "--photo-ratio", "0.5")
    assert_user_error(code, err, "--photo-ratio needs --photos")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("content", [b"", b"hello world garbage" * 10, "truncated"])
def test_a_corrupt_resume_state_names_the_file_and_restart(capsys, tmp_path, data, model, content):
    out = tmp_path / "run" / "net.pt"
    out.parent.mkdir()
    state = out.with_name("net.pt.state.pt")
    if content == "truncated":
        torch.save({"model": {"w": torch.zeros(1000)}, "optimizer": {}, "step": 5, "model_config": {}}, state)
        content = state.read_bytes()[:300]
    state.write_bytes(content)
    code, err = train(capsys, data, out, model)
    assert_user_error(code, err, str(state), "unreadable", "--restart")
    code, err = train(capsys, data, out, model, "--nproc", "2")  # refused before torchrun starts
    assert_user_error(code, err, str(state), "--restart")


def test_a_state_file_of_another_kind_is_unreadable(tmp_path):
    path = tmp_path / "x.state.pt"
    torch.save({"format": "vidseg-checkpoint-1", "state_dict": {}}, path)  # a checkpoint, not a state
    with pytest.raises(InputError, match="unreadable.*--restart"):
        read_state(path)


def test_a_batch_that_does_not_split_over_nproc_is_refused_before_launch(capsys, tmp_path, data):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", "vos", "--batch-size", "3", "--nproc", "2")
    assert_user_error(code, err, "--batch-size 3", "2 processes")
    assert not (tmp_path / "run").exists()


def test_missing_data_and_an_out_folder_are_refused_before_launch(capsys, tmp_path, data):
    code, err = train(capsys, tmp_path / "nowhere", tmp_path / "run.pt", "vos", "--nproc", "2")
    assert_user_error(code, err, "JPEGImages")
    (tmp_path / "folder").mkdir()
    code, err = train(capsys, data, tmp_path / "folder", "tracker")
    assert_user_error(code, err, "is a folder")


def test_the_config_refuses_bad_values_from_python_too(tmp_path):
    base = dict(data=tmp_path, out=tmp_path / "net.pt", sequences=("clip",))
    for bad in (dict(lr=math.nan), dict(batch_size=0), dict(steps=True), dict(weight_decay=-1.0),
                dict(scale=1.5), dict(save_every=0), dict(warmup=-1), dict(minutes=math.inf)):
        with pytest.raises(InputError):
            VosTrainConfig(**base, **bad)
    assert TrainRunConfig(**base, minutes=0.5).minutes == 0.5


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("model", MODELS)
def test_a_cuda_device_without_a_gpu_is_one_line_naming_cpu(capsys, tmp_path, data, model):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", model, "--device", "cuda")
    assert_user_error(code, err, "--device cpu")
    assert not (tmp_path / "run").exists()


def test_nproc_with_a_gpu_is_refused(tmp_path, data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    config = TrainRunConfig(data=data, out=tmp_path / "net.pt", sequences=("clip",), device="cuda", batch_size=2)
    check_run(config)  # one process on the GPU is fine
    with pytest.raises(InputError, match="--nproc 2 trains on CPU"):
        check_run(config, world=2)


def test_auto_device_is_the_gpu_only_where_torch_sees_one():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"


def test_restart_skips_the_unreadable_state(tmp_path, data):
    config = TrainRunConfig(data=data, out=tmp_path / "net.pt", sequences=("clip",), restart=True)
    config.state_path.write_bytes(b"garbage")
    check_run(config)  # --restart: the state is not read
    with pytest.raises(InputError, match="unreadable"):
        check_run(TrainRunConfig(data=data, out=tmp_path / "net.pt", sequences=("clip",)))


@pytest.mark.parametrize("model", MODELS)
def test_init_and_encoder_together_are_refused(capsys, tmp_path, data, model):
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", model, "--init", tmp_path / "x.pt", "--encoder", "lite0")
    assert_user_error(code, err, "--init", "--encoder")


@pytest.mark.parametrize("content", [None, b"not a checkpoint"])
def test_a_missing_or_unreadable_init_checkpoint_is_one_line_before_any_decoding(capsys, tmp_path, data, content):
    init = tmp_path / "init.pt"
    if content is not None:
        init.write_bytes(content)
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", "vos", "--init", init)
    assert_user_error(code, err, str(init))
    assert not (tmp_path / "run").exists()


def test_an_init_checkpoint_of_another_network_names_both(capsys, tmp_path, data):
    from vidseg.nn.polar import PolarTrackerConfig
    from vidseg.nn.registry import create_model, save_model

    init = tmp_path / "tracker.pt"
    save_model(init, "tracker", create_model("tracker", PolarTrackerConfig()))
    code, err = train(capsys, data, tmp_path / "run" / "net.pt", "vos", "--init", init)
    assert_user_error(code, err, str(init), "'tracker'", "'vos'")
