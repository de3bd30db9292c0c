"""Data-parallel training with PyTorch's own tools: torchrun starts N processes, DDP averages gradients.

``vidseg train MODEL ... --nproc N`` runs the same command N times under ``torch.distributed.run``
(:func:`launch`); in each, :func:`vidseg.train.loop.run_training` joins the process group (gloo
on CPU, nccl on CUDA) and wraps the step in ``DistributedDataParallel``.

Global batch semantics: ``--batch-size B`` is the batch of one optimiser step over all processes.
Rank r of N takes the r-th slice of B/N of that step's sample indices (:func:`step_indices`); since
a sample is a pure function of (seed, index), the N ranks together see exactly the samples one
process would, and DDP's gradient average over equal slices is the single process's batch mean,
so learning rate, schedule and step count carry over unchanged. What differs: BatchNorm statistics
are per rank (over B/N samples), which moves the loss within noise. Only rank 0 writes the state
file, the log and the weights; every rank resumes from the same state file.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import distributed as dist
from torch import nn

from vidseg.errors import InputError
from vidseg.train.step import StepResult



@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: ``rank`` of ``world`` processes (0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True inside a process that torchrun started (it sets LOCAL_RANK, RANK and WORLD_SIZE)."""
    return "LOCAL_RANK" in os.environ


def ranks() -> Ranks:
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def backend(device: torch.device | str = "cpu") -> str:
    """gloo for CPU tensors, nccl for CUDA ones (the trainers train on CPU today)."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


@contextlib.contextmanager
def process_group(device: torch.device | str = "cpu") -> Iterator[Ranks]:
    """Join torchrun's process group for the block when launched with more than one process."""
    if not launched() or int(os.environ.get("WORLD_SIZE", "1")) < 2 or dist.is_initialized():
        yield ranks()
        return
    dist.init_process_group(backend(device))
    try:
        yield ranks()
    except BaseException:
        dist.destroy_process_group()  # no barrier: the other ranks may never reach one
        raise
    _leave_together()


def _leave_together() -> None:
    """Wait for every rank, then destroy the group, with nothing of the run's DDP wrapper (which
    holds the group) left for the collector to free after it.

    A rank that finished first (rank 0 still writing the weights) used to destroy its group and
    exit alone, and now and then it aborted at exit ("terminate called without an active
    exception", SIGABRT): 2 of 36 two-process runs of tests/train/ddp_tiny_run.py, none of 60 since."""
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


def step_indices(start: int, steps: int, batch_size: int, where: Ranks) -> list[int]:
    """The sample indices ``where`` takes for steps ``start..steps-1``, in order: B/N per step,
    rank r's being ``step * B + r * B/N ...``; all ranks together take ``start * B .. steps * B - 1``."""
    check_split(batch_size, where.world)
    share = batch_size // where.world
    first = where.rank * share
    return [step * batch_size + first + k for step in range(start, steps) for k in range(share)]


def check_split(batch_size: int, nproc: int) -> None:
    """InputError unless ``nproc`` is at least 1 and the global batch splits evenly over it."""
    if nproc < 1:
        raise InputError(f"--nproc is {nproc}; give at least 1")
    if batch_size % nproc:
        raise InputError(f"--batch-size {batch_size} does not split evenly over {nproc} processes; "
                         f"give a multiple of {nproc} (it is the global batch of one step)")


class _StepModule(nn.Module):
    """The trainer's step as a module's forward, so DDP sees (and synchronises) the whole step,
    even one that calls parts of the model (the interactive net's lower and upper halves)."""

    def __init__(self, model: nn.Module, step_fn: Callable[[dict], StepResult]) -> None:
        super().__init__()
        self.model = model
        self.step_fn = step_fn

    def forward(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        result = self.step_fn(batch)
        return result.loss, torch.tensor(float(result.iou))


def data_parallel(model: nn.Module, step_fn: Callable[[dict], StepResult],
                  where: Ranks) -> Callable[[dict], StepResult]:
    """``step_fn`` itself in one process; with more, the same step whose backward averages the
    gradients over all ranks (and whose model starts from rank 0's weights)."""
    if where.world == 1:
        return step_fn
    # find_unused_parameters: a step may leave a branch out (a loss weight of 0); cheap at our sizes.
    ddp = nn.parallel.DistributedDataParallel(_StepModule(model, step_fn), find_unused_parameters=True)

    def step(batch: dict) -> StepResult:
        loss, iou = ddp(batch)
        return StepResult(loss, float(iou))
    return step


def mean(value: float, where: Ranks) -> float:
    """``value`` averaged over the ranks (every rank must call this at the same point)."""
    if where.world == 1:
        return value
    tensor = torch.tensor([float(value)], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor.item()) / where.world


def agree(flag: bool, where: Ranks) -> bool:
    """Rank 0's ``flag`` on every rank, so all ranks stop (or go on) at the same step."""
    if where.world == 1:
        return flag
    tensor = torch.tensor([int(flag)])
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())
