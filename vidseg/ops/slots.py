"""Small conversions between slot maps and per-slot probabilities, shared by every propagator."""

from __future__ import annotations

import numpy as np


def one_hot(slots: np.ndarray, num_slots: int) -> np.ndarray:
    """Slot map (HxW, values 0..num_slots-1) -> probabilities (num_slots, H, W) float32."""
    return (slots[None] == np.arange(num_slots, dtype=slots.dtype)[:, None, None]).astype(np.float32)


def to_slots(probs: np.ndarray) -> np.ndarray:
    """Probabilities (K+1, H, W) -> slot map (HxW uint8) by arg-max; slot 0 is background.

    A running comparison over channels: np.argmax along the first axis strides across memory and
    costs several times more for the few objects a video has. Ties go to the lower slot, as in argmax."""
    slots = np.zeros(probs.shape[1:], dtype=np.uint8)
    best = probs[0].copy()
    for k in range(1, probs.shape[0]):
        better = probs[k] > best
        np.copyto(slots, k, where=better)
        np.maximum(best, probs[k], out=best)
    return slots


def pad_slots(probs: np.ndarray, num_slots: int) -> np.ndarray:
    """Grow (K+1, H, W) probabilities to ``num_slots`` channels with zeros for new objects."""
    if probs.shape[0] >= num_slots:
        return probs
    extra = np.zeros((num_slots - probs.shape[0], *probs.shape[1:]), dtype=probs.dtype)
    return np.concatenate([probs, extra], axis=0)


def apply_prompt(probs: np.ndarray, prompt_slots: np.ndarray, prompt_objects: list[int]) -> np.ndarray:
    """Overwrite the prompted objects with a user's mask.

    probs: (K+1, H, W) float32 propagated probabilities (K already counts the prompt's objects).
    prompt_slots: HxW slot map of the prompt. prompt_objects: the slots it defines.
    The prompt wins: its objects take exactly its pixels, and no other object keeps a pixel the
    prompt gives to one of them. Objects the prompt does not mention keep their other pixels.
    """
    out = probs.copy()
    claimed = prompt_slots > 0
    out[:, claimed] = 0.0
    for slot in prompt_objects:
        out[slot] = (prompt_slots == slot).astype(np.float32)
    # Pixels an object of the prompt used to hold but the prompt leaves out become background.
    out[0] = np.clip(1.0 - out[1:].sum(axis=0), 0.0, 1.0)
    return out


def soft_aggregate(object_probs: np.ndarray) -> np.ndarray:
    """Independent per-object probabilities (K, H, W) -> (K+1, H, W) summing to 1 (STM's soft
    aggregation): background is where no object is, then the odds compete in a softmax."""
    p = np.clip(object_probs, 1e-6, 1 - 1e-6)
    background = np.prod(1 - p, axis=0, keepdims=True)
    stacked = np.clip(np.concatenate([background, p], axis=0), 1e-6, 1 - 1e-6)
    logits = np.log(stacked / (1 - stacked))
    logits -= logits.max(axis=0, keepdims=True)
    odds = np.exp(logits)
    return (odds / odds.sum(axis=0, keepdims=True)).astype(np.float32)
