"""Block flow: one vector per k x k block of pixels (seed 001's "unit display block").

A block flow is cheaper to store, send and smooth than a dense one and is less noisy; expand it back
to a dense flow before warping.
"""

from __future__ import annotations

import numpy as np

from vidseg.errors import InputError


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"block size k must be a positive integer, got {k!r}")


def _n_blocks(size: int, k: int) -> int:
    return -(-size // k)


def block_flow(flow: np.ndarray, k: int) -> np.ndarray:
    """Mean flow over each k x k block.

    flow: HxWx2 float. Returns ceil(H/k) x ceil(W/k) x 2 float32; blocks cut by the bottom or right
    edge are averaged over their pixels inside the image. k=1 returns a float32 copy.
    """
    _check_k(k)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError(f"flow must be HxWx2 (dx, dy), got shape {flow.shape}")
    h, w = flow.shape[:2]
    hb, wb = _n_blocks(h, k), _n_blocks(w, k)
    padded = np.zeros((hb * k, wb * k, 2), dtype=np.float64)
    padded[:h, :w] = flow
    counts = np.zeros((hb * k, wb * k), dtype=np.float64)
    counts[:h, :w] = 1.0
    sums = padded.reshape(hb, k, wb, k, 2).sum(axis=(1, 3))
    n = counts.reshape(hb, k, wb, k).sum(axis=(1, 3))
    return (sums / n[..., None]).astype(np.float32)


def expand_block_flow(block: np.ndarray, height: int, width: int, k: int) -> np.ndarray:
    """Dense HxWx2 float32 flow in which every pixel takes its block's vector (piecewise constant).

    block: ceil(height/k) x ceil(width/k) x 2, as returned by :func:`block_flow`.
    """
    _check_k(k)
    expected = (_n_blocks(height, k), _n_blocks(width, k), 2)
    if block.shape != expected:
        raise InputError(f"block flow has shape {block.shape}, expected {expected} for {height}x{width} and k={k}")
    dense = np.repeat(np.repeat(block.astype(np.float32, copy=False), k, axis=0), k, axis=1)
    return np.ascontiguousarray(dense[:height, :width])
