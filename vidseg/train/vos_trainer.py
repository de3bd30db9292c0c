"""``vidseg train vos``: train the propagation network on DAVIS-layout data, resumably.

The run keeps two files beside ``out``: ``<out>.state.pt`` (weights, optimiser, step; rewritten
atomically every ``save_every`` steps, so a stopped run resumes where it was) and
``<out>.log.jsonl`` (one line per logged step). The weights themselves go to ``out`` at the end.
Samples are a pure function of (seed, index), so a resumed run sees the samples it would have seen.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from vidseg.errors import InputError
from vidseg.io.atomic import atomic_path
from vidseg.nn.checkpoint import save_checkpoint
from vidseg.nn.losses import batch_iou, segmentation_loss
from vidseg.nn.propagation import PropagationNet, PropagationNetConfig


@dataclass(frozen=True)
class VosTrainConfig:
    data: Path
    out: Path
    sequences: tuple[str, ...]
    steps: int = 3000
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    save_every: int = 50
    log_every: int = 10
    seed: int = 0
    scale: float = 0.5
    crop: tuple[int, int] = (192, 320)
    synthetic_ratio: float = 0.3
    workers: int = 1
    minutes: float | None = None  # stop (resumably) after this long
    restart: bool = False
    model: PropagationNetConfig = field(default_factory=PropagationNetConfig)

    @property
    def state_path(self) -> Path:
        return self.out.with_name(self.out.name + ".state.pt")

    @property
    def log_path(self) -> Path:
        return self.out.with_name(self.out.name + ".log.jsonl")


def learning_rate(config: VosTrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train_vos(config: VosTrainConfig) -> Path:
    """Run (or resume) training; returns the weights path once ``config.steps`` are done."""
    torch.manual_seed(config.seed)
    model = PropagationNet(config.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    step = _resume(config, model, optimizer)
    loader = _batches(config, start=step)
    started, first_step = time.perf_counter(), step
    model.train()
    while step < config.steps:
        if config.minutes is not None and time.perf_counter() - started > 60 * config.minutes:
            _log(f"stopping after {config.minutes} minutes at step {step}; run the same command to resume")
            _save_state(config, model, optimizer, step)
            return config.state_path
        batch = next(loader)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        pred = model(batch["frames"], batch["masks"][:, 0], batch["prev_mask"], batch["prior"])
        target = batch["masks"][:, 2]
        loss = segmentation_loss(pred.logits, target) + 0.5 * segmentation_loss(pred.pre_logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        step += 1
        if step % config.log_every == 0 or step == config.steps:
            _record(config, step, loss.item(), batch_iou(pred.logits, target), started, first_step)
        if step % config.save_every == 0:
            _save_state(config, model, optimizer, step)
    _save_state(config, model, optimizer, step)
    meta = {"trained_steps": step, "data": str(config.data), "sequences": list(config.sequences),
            "train_config": _jsonable(config)}
    save_checkpoint(config.out, "propagation", model, meta)
    _log(f"wrote {config.out}")
    return config.out


def _batches(config: VosTrainConfig, start: int) -> Iterator[dict]:
    from vidseg.train.datasets import FrameStore, VosSampleConfig, VosTrainingSet

    store = FrameStore(config.data, config.sequences, scale=config.scale,
                       cache_dir=config.out.parent / ".cache")
    samples = VosSampleConfig(size=config.crop, synthetic_ratio=config.synthetic_ratio, seed=config.seed)
    dataset = VosTrainingSet(store, samples, length=config.steps * config.batch_size)
    indices = range(start * config.batch_size, config.steps * config.batch_size)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, sampler=indices,
                                         num_workers=config.workers, persistent_workers=config.workers > 0)
    return iter(loader)


def _resume(config: VosTrainConfig, model: PropagationNet, optimizer: torch.optim.Optimizer) -> int:
    if config.restart or not config.state_path.exists():
        config.log_path.unlink(missing_ok=True)
        return 0
    state = torch.load(config.state_path, map_location="cpu", weights_only=True)
    if state["model_config"] != config.model.to_dict():
        raise InputError(f"{config.state_path} was written for another network config; pass --restart to start over")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    _log(f"resuming from step {state['step']} ({config.state_path})")
    return int(state["step"])


def _save_state(config: VosTrainConfig, model: PropagationNet, optimizer: torch.optim.Optimizer, step: int) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "model_config": config.model.to_dict()}
    with atomic_path(config.state_path) as tmp:
        torch.save(state, tmp)


def _record(config: VosTrainConfig, step: int, loss: float, iou: float, started: float, first_step: int) -> None:
    elapsed = time.perf_counter() - started
    rate = (step - first_step) / max(elapsed, 1e-9)
    eta_min = (config.steps - step) / max(rate, 1e-9) / 60
    row = {"step": step, "loss": round(loss, 4), "iou": round(iou, 4), "lr": learning_rate(config, step - 1),
           "seconds": round(elapsed, 1), "samples_per_s": round(rate * config.batch_size, 2)}
    with config.log_path.open("a") as log:
        log.write(json.dumps(row) + "\n")
    _log(f"step {step}/{config.steps}  loss {loss:.4f}  iou {iou:.3f}  "
         f"{row['samples_per_s']:.1f} samples/s  eta {eta_min:.0f} min")


def _jsonable(config: VosTrainConfig) -> dict:
    return json.loads(json.dumps(asdict(config), default=str))


def _log(message: str) -> None:
    print(f"[train vos] {message}", file=sys.stderr, flush=True)
