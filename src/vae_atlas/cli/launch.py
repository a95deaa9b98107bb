"""``vae-atlas train --nproc N``: the same command, trained by N processes on this machine.

It is ``torchrun --standalone --nproc-per-node N -m vae_atlas.cli train ...`` with this process as
torchrun's agent, so the user gets torchrun's exact behaviour without its launcher noise: a
Ctrl-C reaches every worker (rank 0 saves and says how to resume) and ends with status 130, and
a worker that fails has already printed its one ``error:`` line, so no launcher traceback
follows it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from vae_atlas.config import ConfigError


def run_under_torchrun(nproc: int, argv: Sequence[str]) -> int:
    """Run ``vae-atlas ARGV`` (which still says ``--nproc N``; the workers see that they run
    under torchrun) as ``nproc`` torchrun workers; return the exit status the user should see."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    from vae_atlas.training.distributed import threads_per_rank

    if nproc < 1:
        raise ConfigError(f"--nproc {nproc} must be at least 1")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # torchrun would set 1 and warn that it did; the workers share this machine's cores
    os.environ.setdefault("OMP_NUM_THREADS", str(threads_per_rank(cores or 1, nproc)))
    # the agent's own warnings ("Received 2 death signal ...") repeat what the workers print
    logging.getLogger("torch.distributed.elastic").setLevel(logging.ERROR)
    config = parse_args(["--standalone", f"--nproc-per-node={nproc}", "--module", "vae_atlas.cli"])
    # set after parsing: torchrun's parser would take ``--nproc`` for its ``--nproc-per-node``
    config.training_script_args = list(argv)
    try:
        run(config)
    except SignalException as exc:  # the workers received the same signal and stopped cleanly
        return 128 + int(exc.sigval)
    except ChildFailedError as exc:  # each failed worker printed its reason already
        codes = [failure.exitcode for failure in exc.failures.values()]
        return next((code for code in codes if code > 0), 1)
    return 0
