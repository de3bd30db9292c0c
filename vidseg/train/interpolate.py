"""WiSE-FT (Wortsman et al., CVPR 2022): a fine-tuned network's weights moved back part of the way
to the network it was fine-tuned from.

Fine-tuning for a new skill can cost an old one; the straight line between the two sets of weights
often keeps most of both. The interactive network fine-tuned on focus windows corrects clicks far
better but draws worse first masks from a box (on training photos 68.5 IoU against 79.9); halfway
back it keeps most of each (76.3; on the TUNE frames NoC@90 7.71 against 7.60 and 8.90).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vidseg.errors import InputError
from vidseg.nn.registry import load_with_meta, save_model


def keep_start(out: Path, start: Path, arch: str, share: float) -> None:
    """Rewrite the ``arch`` checkpoint ``out`` (atomically) as ``share`` x ``start``'s weights +
    (1 - share) x its own. ``start`` is the network ``out`` was fine-tuned from (WiSE-FT), or a sibling
    fine-tuned from that same network (``--keep-from``: a soup of two). Integer buffers (BatchNorm's
    counters) are ``out``'s. The two networks must be of one architecture and configuration (but for
    what the fine-tuning changed, e.g. focus)."""
    if not 0 <= share < 1:
        raise InputError(f"--keep-init is {share!r}; give a share from 0 (the fine-tuned weights) to below 1")
    tuned, meta = load_with_meta(arch, out)
    first, _ = load_with_meta(arch, start)
    a, b = first.state_dict(), tuned.state_dict()
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise InputError(f"{start} and {out} are different networks; --keep-init needs the --init checkpoint "
                         "the run was fine-tuned from, or a --keep-from run of the same network")
    with torch.no_grad():
        tuned.load_state_dict({k: share * a[k] + (1 - share) * b[k] if b[k].is_floating_point() else b[k]
                               for k in b})
    save_model(out, arch, tuned, {**meta, "keep_init": {"share": share, "init": str(start)}})
