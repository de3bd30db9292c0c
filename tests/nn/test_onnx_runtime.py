"""Which backend "auto" means: ONNX Runtime where the onnx extra is installed, torch where it is not."""

import importlib.util

import pytest
import torch

from vidseg.errors import InputError
from vidseg.nn.onnx_runtime import resolve_backend
from vidseg.nn.registry import as_backend


def _installed(monkeypatch, missing: set[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a))


@pytest.mark.parametrize("missing,expected", [(set(), "onnxruntime"), ({"onnxruntime"}, "torch"), ({"onnx"}, "torch")])
def test_auto_is_onnx_runtime_only_where_both_packages_are_installed(monkeypatch, missing, expected):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    _installed(monkeypatch, missing)
    assert resolve_backend("auto") == expected
    assert resolve_backend("torch") == "torch" and resolve_backend("onnxruntime") == "onnxruntime"


def test_auto_without_the_extra_leaves_a_network_in_torch(monkeypatch):
    _installed(monkeypatch, {"onnx", "onnxruntime"})
    net = torch.nn.Conv2d(1, 1, 1)
    assert as_backend("vos", net, "auto") is net
    with pytest.raises(InputError, match="unknown backend"):
        as_backend("vos", net, "tensorrt")
