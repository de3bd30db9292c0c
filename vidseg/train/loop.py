"""The resumable training loop every ``vidseg train`` command shares.

A run keeps two files beside its weights ``out``: ``<out>.state.pt`` (weights, optimiser, step;
rewritten atomically every ``save_every`` steps, so a stopped run resumes where it was) and
``<out>.log.jsonl`` (one line per logged step). The weights go to ``out`` at the end. Samples are a
pure function of (seed, index), so a resumed run sees the samples it would have seen.

Launched by torchrun (``vidseg train ... --nproc N``) the loop is data-parallel: see
:mod:`vidseg.train.distributed` for the global batch; only rank 0 writes the state, log and weights.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import atomic_path
from vidseg.nn.registry import save_model
from vidseg.train import distributed
from vidseg.train.distributed import Ranks
from vidseg.train.ema import WeightAverage
from vidseg.train.step import StepResult


@dataclass(frozen=True)
class TrainRunConfig:
    """What every training run has; each trainer's config adds its own fields."""

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
    workers: int = 1
    minutes: float | None = None  # stop (resumably) after this long
    restart: bool = False
    init: Path | None = None  # start from this checkpoint's network instead of a new one (fine-tuning)
    device: str = "cpu"  # where the network trains: "cpu", "cuda" or "cuda:N"; samples are made on the CPU
    ema: float = 0.0  # write the weights' moving average with this decay (vidseg.train.ema); 0: the last step's

    def __post_init__(self) -> None:
        """Refuse values no run can use, at construction: before any decoding, caching or launch.
        Options the CLI takes are named by their flag, the others by their field."""
        for name, value, least in (("--steps", self.steps, 1), ("--batch-size", self.batch_size, 1),
                                   ("--workers", self.workers, 0), ("--seed", self.seed, 0),
                                   ("warmup", self.warmup, 0), ("save_every", self.save_every, 1),
                                   ("log_every", self.log_every, 1)):
            _check_whole(name, value, least)
        _check_number("--lr", self.lr, "a learning rate above 0, e.g. 2e-3")
        _check_number("weight_decay", self.weight_decay, "a number of at least 0", zero=True)
        _check_number("--scale", self.scale, "a share of the frame size in (0, 1], e.g. 0.5", most=1.0)
        if not (isinstance(self.ema, (int, float)) and not isinstance(self.ema, bool) and 0 <= self.ema < 1):
            raise InputError(f"--ema is {self.ema!r}; give a decay from 0 (off) to below 1, e.g. 0.998")
        if self.minutes is not None:
            _check_number("--minutes", self.minutes, "a number of minutes above 0")
        if not isinstance(self.device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise InputError(f"--device is {self.device!r}; give cpu, cuda or cuda:N")

    @property
    def state_path(self) -> Path:
        return self.out.with_name(self.out.name + ".state.pt")

    @property
    def log_path(self) -> Path:
        return self.out.with_name(self.out.name + ".log.jsonl")


def _check_whole(name: str, value: object, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InputError(f"{name} is {value!r}; give a whole number of at least {least}")


def _check_number(name: str, value: object, wanted: str, zero: bool = False, most: float = math.inf) -> None:
    """A finite number above 0 (at least 0 when ``zero``), at most ``most``: nan and inf are refused
    (nan passes every comparison's negation, so it is tested first)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value >= 0 if zero else value > 0) and value <= most)
    if not ok:
        raise InputError(f"{name} is {value!r}; give {wanted}")


def check_run(config: TrainRunConfig, world: int = 1) -> None:
    """What a run needs beyond its config's own values, checked before any decoding, caching or
    launch of ``world`` processes: the batch splits over them, the data's sequence folders exist,
    ``out`` is not a folder, a state file to resume from and an ``init`` checkpoint are readable."""
    from vidseg.train.clips import sequence_folders

    distributed.check_split(config.batch_size, world)
    check_device(config.device)
    if world > 1 and config.device != "cpu":
        # The ranks' loss, IoU and stop flag are exchanged as CPU tensors (gloo); nccl would need them on the GPU.
        raise InputError(f"--nproc {world} trains on CPU processes only; give --device cpu, or --nproc 1 for one GPU")
    sequence_folders(Path(config.data), tuple(config.sequences))
    if config.out.is_dir():
        raise OutputError(f"--out {config.out} is a folder; give the weights file to write, e.g. {config.out / 'net.pt'}")
    if not config.restart and config.state_path.exists():
        read_state(config.state_path)
    if config.init is not None:
        from vidseg.nn.checkpoint import read_checkpoint

        read_checkpoint(config.init)  # missing or not a checkpoint: one line before any work


def check_device(device: str) -> None:
    """InputError unless torch can train on ``device`` here (a CUDA device needs a CUDA build and a GPU)."""
    if device == "cpu":
        return
    index = int(device.partition(":")[2] or 0)
    if not torch.cuda.is_available() or index >= torch.cuda.device_count():
        raise InputError(f"--device {device}: torch sees no such CUDA GPU here; give --device cpu")


def resolve_device(choice: str) -> str:
    """``auto``: cuda when torch sees a GPU, else cpu; any other choice as given."""
    if choice != "auto":
        return choice
    return "cuda" if torch.cuda.is_available() else "cpu"


def read_state(path: Path) -> dict:
    """The training state saved at ``path``; InputError when it cannot be read as one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - torch.load raises what the bytes provoke (KeyError, RuntimeError, EOFError...)
        state = None
    if not isinstance(state, dict) or not {"model", "optimizer", "step", "model_config"} <= state.keys():
        raise InputError(f"training state {path} is unreadable (truncated or not a vidseg training state); "
                         "pass --restart to start over")
    return state



def learning_rate(config: TrainRunConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def run_training(config: TrainRunConfig, model: nn.Module, arch: str,
                 batches: Callable[[int], Iterator[dict]], step_fn: Callable[[dict], StepResult],
                 param_groups: list[dict] | None = None) -> Path:
    """Train (or resume) ``model`` for ``config.steps`` steps; returns the weights path, or the
    state path when ``config.minutes`` ran out first. ``arch``: the model's registry name.

    Parameters with ``requires_grad`` off stay as they are. ``param_groups``: a list of
    ``{"params": [...], "lr_scale": float}`` to train parts at a share of the learning rate (a
    pretrained encoder more gently than new layers); default one group of every parameter.

    ``batches(start_step)`` yields the batches from that step on (this rank's share of them when
    distributed: :func:`vidseg.train.distributed.step_indices`); ``step_fn(batch)`` computes the loss.
    """
    groups = param_groups if param_groups is not None else [{"params": list(model.parameters())}]
    with distributed.process_group(config.device) as ranks:
        return _train(config, model, arch, batches, step_fn, ranks, groups)


def _train(config: TrainRunConfig, model: nn.Module, arch: str, batches: Callable[[int], Iterator[dict]],
           step_fn: Callable[[dict], StepResult], ranks: Ranks, groups: list[dict]) -> Path:
    check_run(config, ranks.world)  # a bad state file or batch split: one line now, not after decoding
    if ranks.main:
        config.out.parent.mkdir(parents=True, exist_ok=True)  # the log and state file go beside the weights
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    model.to(device)  # before the optimiser: its state is made beside the parameters
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # one crop size per run: the fastest kernels are found once
    optimizer = torch.optim.AdamW(_trainable(groups), lr=config.lr, weight_decay=config.weight_decay)
    # Only the rank that writes the weights keeps the average: the others would update it for nothing.
    average = WeightAverage(model, config.ema) if config.ema and ranks.main else None
    step = _resume(config, model, optimizer, arch, ranks, average)
    train_step = distributed.data_parallel(model, step_fn, ranks)
    loader = _on_device(batches(step), device)
    started, first_step = time.perf_counter(), step
    model.train()
    while step < config.steps:
        out_of_time = config.minutes is not None and time.perf_counter() - started > 60 * config.minutes
        if config.minutes is not None and distributed.agree(out_of_time, ranks):  # all ranks stop together
            log(arch, f"stopping after {config.minutes} minutes at step {step}; run the same command to resume")
            if ranks.main:
                _save_state(config, model, optimizer, step, average)
            return config.state_path
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step) * group["lr_scale"]
        result = train_step(next(loader))
        optimizer.zero_grad(set_to_none=True)
        result.loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 5.0)
        optimizer.step()
        if average is not None:
            average.update(model)
        step += 1
        if step % config.log_every == 0 or step == config.steps:
            # The global batch's loss and IoU: the mean of the ranks' equal shares.
            loss, iou = distributed.mean(result.loss.item(), ranks), distributed.mean(result.iou, ranks)
            if ranks.main:
                _record(config, arch, step, loss, iou, started, first_step)
        if step % config.save_every == 0 and ranks.main:
            _save_state(config, model, optimizer, step, average)
    if ranks.main:
        _save_state(config, model, optimizer, step, average)
        meta = {"trained_steps": step, "data": str(config.data), "sequences": list(config.sequences),
                "train_config": json.loads(json.dumps(asdict(config), default=str))}
        save_model(config.out, arch, model if average is None else average.model, meta)
        log(arch, f"wrote {config.out}")
    return config.out


def _on_device(batches: Iterator[dict], device: torch.device) -> Iterator[dict]:
    """``batches`` with their tensors moved to ``device`` (samples are made on the CPU by the loader)."""
    for batch in batches:
        yield {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _trainable(groups: list[dict]) -> list[dict]:
    """The optimiser's groups: trainable parameters only, each group with its ``lr_scale``."""
    out = []
    for group in groups:
        params = [p for p in group["params"] if p.requires_grad]
        if params:
            out.append({"params": params, "lr_scale": float(group.get("lr_scale", 1.0))})
    return out


def _resume(config: TrainRunConfig, model: nn.Module, optimizer: torch.optim.Optimizer, arch: str,
            ranks: Ranks = Ranks(), average: WeightAverage | None = None) -> int:
    """The step to go on from: 0 for a new run, else the saved state's, its weights, optimiser and
    (when ``average`` is given) weight average loaded."""
    if config.restart or not config.state_path.exists():
        if ranks.main:
            config.log_path.unlink(missing_ok=True)
        return 0
    state = read_state(config.state_path)
    if state["model_config"] != model.config.to_dict():
        raise InputError(f"{config.state_path} was written for another network config; pass --restart to start over")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if average is not None:  # a state saved without one starts the average from its weights
            average.load_state_dict(state.get("average", {"weights": state["model"], "updates": 0}))
    except (RuntimeError, ValueError, KeyError):  # the keys or shapes do not fit: written by another version
        raise InputError(f"training state {config.state_path} does not fit this network; "
                         "pass --restart to start over") from None
    log(arch, f"resuming from step {state['step']} ({config.state_path})")
    return int(state["step"])


def _save_state(config: TrainRunConfig, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                average: WeightAverage | None = None) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "model_config": model.config.to_dict()}
    if average is not None:
        state["average"] = average.state_dict()
    with atomic_path(config.state_path) as tmp:
        torch.save(state, tmp)


def _record(config: TrainRunConfig, arch: str, step: int, loss: float, iou: float, started: float,
            first_step: int) -> None:
    elapsed = time.perf_counter() - started
    rate = (step - first_step) / max(elapsed, 1e-9)
    eta_min = (config.steps - step) / max(rate, 1e-9) / 60
    row = {"step": step, "loss": round(loss, 4), "iou": round(iou, 4), "lr": learning_rate(config, step - 1),
           "seconds": round(elapsed, 1), "samples_per_s": round(rate * config.batch_size, 2)}
    with config.log_path.open("a") as file:
        file.write(json.dumps(row) + "\n")
    log(arch, f"step {step}/{config.steps}  loss {loss:.4f}  iou {iou:.3f}  "
              f"{row['samples_per_s']:.1f} samples/s  eta {eta_min:.0f} min")


def log(arch: str, message: str) -> None:
    if not distributed.ranks().main:
        return  # one voice for N processes
    print(f"[train {arch}] {message}", file=sys.stderr, flush=True)
