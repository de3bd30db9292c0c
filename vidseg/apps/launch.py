"""``vidseg train ... --nproc N``: the same command again in N processes under torchrun."""

from __future__ import annotations

import os
import subprocess
import sys

from vidseg.errors import InputError


def launch(argv: list[str], nproc: int) -> int:
    """Run ``vidseg *argv`` in ``nproc`` processes on this machine under torchrun; its exit code.

    Each process gets an equal share of the cores as torch threads, unless OMP_NUM_THREADS is set."""
    if nproc < 1:
        raise InputError(f"--nproc is {nproc}; give at least 1")
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "vidseg.apps.cli", *without_nproc(argv)]
    return subprocess.run(command, env=env, check=False).returncode


def without_nproc(argv: list[str]) -> list[str]:
    """``argv`` less its ``--nproc N`` (or ``--nproc=N``): torchrun's own parser would take ``--nproc``
    for an abbreviation of its ``--nproc-per-node``, and each launched process runs as one rank anyway."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept
