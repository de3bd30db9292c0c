"""Per-pixel weights of the trained pass's loss that say which pixels a correction is judged on
(``vidseg train interactive --preserve`` and ``--clicked-error``). Each takes the crop's previous
mask and target and gives (B, 1, h, w) weights at the logits' size, 1 where nothing is stressed."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidseg.engine.interactive.clicks import Click
from vidseg.nn.losses import fit_target


def preserve_weight(prev: torch.Tensor, masks: torch.Tensor, logits: torch.Tensor, extra: float) -> torch.Tensor:
    """(B, 1, h, w) BCE weights at the logits' size: 1 + ``extra`` where the previous mask ``prev``
    (B, 1, S, S) already had the label of ``masks`` (B, 1, S, S), 1 elsewhere and on crops without
    a previous mask (a box alone, whose zeros are no answer to keep).

    A click's pass redraws the whole mask, and on the TUNE clips each click broke about half as many
    pixels as it fixed; weighting the pixels the previous mask had right makes breaking them cost
    more than leaving an error, so the pass learns to change what the click points at."""
    prev, target = fit_target(prev, logits), fit_target(masks, logits)
    right = ((prev > 0.5) == (target > 0.5)).float()
    has_prev = (prev.flatten(1).amax(1) > 0).float().view(-1, 1, 1, 1)
    return 1 + extra * right * has_prev


def clicked_error_weight(prev: torch.Tensor, masks: torch.Tensor, clicks: list[list[Click]],
                         logits: torch.Tensor, extra: float, grow: int = 5) -> torch.Tensor:
    """(B, 1, h, w) BCE weights at the logits' size: 1 + ``extra`` on the error each crop's last click
    points at (the connected region, 8-neighbours, of pixels where ``prev`` and ``masks``, both
    (B, 1, S, S), disagree that holds the click), grown by ``grow`` crop pixels; 1 elsewhere, and on
    crops without a previous mask or a click, or whose last click is on no error.

    At inference a click's new answer is kept only in its connected change (the local merge), so
    the pass is judged where the click points; this weights that region, not the whole crop."""
    near = np.zeros(masks.shape, np.float32)
    wrong = ((prev > 0.5) != (masks > 0.5))[:, 0].cpu().numpy().astype(np.uint8)
    has_prev = prev.flatten(1).amax(1).cpu().numpy() > 0
    h, w = wrong.shape[1:]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    for k, crop_clicks in enumerate(clicks):
        if not crop_clicks or not has_prev[k]:
            continue
        # A sampled click's coordinates are floats (a protocol click's are whole pixels).
        x, y = min(max(int(crop_clicks[-1].x), 0), w - 1), min(max(int(crop_clicks[-1].y), 0), h - 1)
        if not wrong[k, y, x]:
            continue
        _, labels = cv2.connectedComponents(wrong[k], connectivity=8)
        region = (labels == labels[y, x]).astype(np.uint8)
        near[k, 0] = cv2.dilate(region, kernel)
    return 1 + extra * fit_target(torch.from_numpy(near).to(logits.device), logits)
