"""A tiny ``vidseg train vos`` run for tests/train/test_distributed.py: alone, or as one rank under torchrun.

    python tests/train/ddp_tiny_run.py DATA OUT
    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/train/ddp_tiny_run.py DATA OUT

Each process also writes ``OUT.rank<R>.json``: a checksum of its final weights, which DDP must
keep equal on every rank.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

import vidseg.train.distributed as distributed
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.train.vos_trainer import VosTrainConfig, train_vos

TINY = PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4)
STEPS = 12


def main(data: Path, out: Path) -> None:
    torch.set_num_threads(1)
    models = []
    wrap = distributed.data_parallel

    def keep(model, step_fn, where):  # the loop's model, to checksum once training is over
        models.append(model)
        return wrap(model, step_fn, where)

    distributed.data_parallel = keep
    config = VosTrainConfig(data=data, out=out, sequences=("s0", "s1"), steps=STEPS, batch_size=4, workers=0,
                            scale=1.0, crop=(64, 96), log_every=1, save_every=4, warmup=2, lr=5e-3, model=TINY)
    train_vos(config)
    total = sum(float(p.double().abs().sum()) for p in models[0].parameters())
    rank = os.environ.get("RANK", "0")
    out.with_name(f"{out.name}.rank{rank}.json").write_text(json.dumps({"checksum": total}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
