"""The weights' moving average (``--ema``): the update rule, the statistics it copies, and a run that
writes the average and carries it through a resume."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from tests.train.test_interactive_trainer import TINY
from tests.train.trainer_checks import train_and_resume
from vidseg.nn.registry import load_with_meta
from vidseg.train.ema import WeightAverage
from vidseg.train.interactive_trainer import InteractiveTrainConfig, train_interactive
from vidseg.train.loop import read_state


def test_the_average_moves_towards_the_weights_at_the_warmed_up_rate():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    average = WeightAverage(model, decay=0.5)
    start = model[0].weight.detach().clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model[1].num_batches_tracked.fill_(7)
    average.update(model)  # first update: decay min(0.5, 2/11) = 2/11, so the average moves 9/11 of the way
    assert torch.allclose(average.model[0].weight, start + 9 / 11)
    for _ in range(20):
        average.update(model)  # decay 0.5 from here on: it closes in on the live weights
    assert torch.allclose(average.model[0].weight, model[0].weight, atol=1e-5)
    assert int(average.model[1].num_batches_tracked) == 7  # counters are copied, not averaged
    assert all(not p.requires_grad for p in average.model.parameters())


def test_a_run_with_ema_writes_the_average_and_resumes_it(tmp_path):
    _, config = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt", ema=0.9)
    state = read_state(config.state_path)
    assert state["average"]["updates"] == 3  # two steps, then one more after the resume
    written, _ = load_with_meta("interactive", config.out)
    for name, value in written.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value.float(), state["average"]["weights"][name].float(), atol=1e-3), name
    assert any(not torch.allclose(v.float(), state["model"][k].float(), atol=1e-6)
               for k, v in written.state_dict().items() if v.is_floating_point())
    plain = replace(config, out=tmp_path / "plain" / "net.pt", ema=0.0, steps=1)
    train_interactive(plain)
    assert "average" not in read_state(plain.state_path)
