"""An exponential moving average of a network's weights over the training steps (``--ema``).

Small batches make each step's weights noisy; their running average can generalise better than
the last step's (Polyak averaging), at no cost at inference: the averaged network is the one written
out. Off by default: in the interactive network's phase 2 (0.998) it scored lower than the same
run's last step (docs/benchmarks.md, thirtieth session). Every floating-point tensor of the state
dict is averaged (parameters and the batch norms' running statistics alike); counters are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """The average of ``model``'s weights; :meth:`update` after each optimiser step.

    decay: the weight of the average at each step (0.999 averages over about the last 1000 steps).
    Early on the decay is lowered to (1 + n) / (10 + n) after n updates, so the average does not
    lean on the starting weights for a whole horizon.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        rate = 1 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        live = model.state_dict()
        for name, mine in self.model.state_dict().items():
            if mine.is_floating_point():
                mine.lerp_(live[name], rate)  # state dict tensors carry no graph
            else:
                mine.copy_(live[name])

    def state_dict(self) -> dict:
        return {"weights": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["weights"])
        self.updates = int(state["updates"])
