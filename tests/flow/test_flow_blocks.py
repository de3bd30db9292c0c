from __future__ import annotations

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.flow import block_flow, expand_block_flow


def test_block_average_with_partial_edge_blocks():
    u = np.arange(15, dtype=np.float32).reshape(3, 5)
    flow = np.stack([u, -2 * u], axis=-1)
    block = block_flow(flow, 2)
    expected_u = np.array(
        [
            [(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 2],
            [(10 + 11) / 2, (12 + 13) / 2, 14],
        ]
    )
    assert block.shape == (2, 3, 2) and block.dtype == np.float32
    np.testing.assert_allclose(block[..., 0], expected_u)
    np.testing.assert_allclose(block[..., 1], -2 * expected_u)


def test_k1_is_identity():
    flow = np.random.default_rng(0).standard_normal((5, 7, 2)).astype(np.float32)
    np.testing.assert_array_equal(block_flow(flow, 1), flow)
    np.testing.assert_array_equal(expand_block_flow(flow, 5, 7, 1), flow)


def test_expand_is_piecewise_constant_and_cropped():
    block = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    dense = expand_block_flow(block, 3, 5, 2)
    assert dense.shape == (3, 5, 2)
    np.testing.assert_array_equal(dense[..., 0], [[0, 0, 2, 2, 4], [0, 0, 2, 2, 4], [6, 6, 8, 8, 10]])


def test_expand_of_block_has_the_image_shape():
    flow = np.random.default_rng(1).standard_normal((37, 50, 2)).astype(np.float32)
    for k in (1, 3, 4, 8):
        assert expand_block_flow(block_flow(flow, k), 37, 50, k).shape == (37, 50, 2)


def test_bad_arguments():
    with pytest.raises(InputError):
        block_flow(np.zeros((4, 4, 2)), 0)
    with pytest.raises(InputError):
        expand_block_flow(np.zeros((2, 2, 2)), 5, 4, 2)
