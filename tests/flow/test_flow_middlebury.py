from __future__ import annotations

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.flow import endpoint_error, read_flo, write_flo


def test_read_flo_of_hand_written_bytes(tmp_path):
    path = tmp_path / "a.flo"
    values = np.arange(2 * 3 * 2, dtype="<f4")  # u, v interleaved, row-major, width 3, height 2
    path.write_bytes(b"PIEH" + np.array([3, 2], "<i4").tobytes() + values.tobytes())
    flow = read_flo(path)
    assert flow.shape == (2, 3, 2) and flow.dtype == np.float32
    assert flow[0, 1].tolist() == [2.0, 3.0] and flow[1, 0].tolist() == [6.0, 7.0]


def test_flo_round_trip(tmp_path):
    flow = np.random.default_rng(0).standard_normal((4, 7, 2)).astype(np.float32)
    write_flo(tmp_path / "b.flo", flow)
    np.testing.assert_array_equal(read_flo(tmp_path / "b.flo"), flow)


def test_bad_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad.flo"
    bad.write_bytes(b"NOPE" + bytes(8))
    with pytest.raises(InputError, match="magic"):
        read_flo(bad)
    short = tmp_path / "short.flo"
    short.write_bytes(b"PIEH" + np.array([3, 2], "<i4").tobytes() + bytes(8))
    with pytest.raises(InputError, match="truncated"):
        read_flo(short)
    with pytest.raises(InputError):
        read_flo(tmp_path / "missing.flo")


def test_endpoint_error_ignores_unknown_pixels():
    gt = np.zeros((2, 2, 2), np.float32)
    gt[0, 1] = (1e10, 0.0)  # unknown u
    gt[1, 0] = (0.0, 2e9)  # unknown v
    flow = np.zeros_like(gt)
    flow[0, 0] = (3.0, 4.0)  # error 5
    flow[0, 1] = flow[1, 0] = (100.0, 100.0)  # ignored
    assert endpoint_error(flow, gt) == pytest.approx(2.5)  # (5 + 0) / 2


def test_endpoint_error_needs_known_pixels():
    with pytest.raises(InputError):
        endpoint_error(np.zeros((1, 1, 2)), np.full((1, 1, 2), 1e10))
