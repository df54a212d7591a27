"""Memory guards: refuse a job before it allocates what the device it runs on cannot hold.

torch is imported only for a CUDA device, so the torch-free onnxruntime path (multistyle.image.onnx_runtime) can
use the same guard."""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from multistyle.errors import ResourceError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# Share of the free memory a job may plan to use: the rest is for weights, the allocator and other processes.
USABLE_SHARE = 0.8


def host_available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo; where that is unreadable, the free physical pages sysconf reports."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes(device: torch.device | str = "cpu") -> int | None:
    """Free memory on `device`: the GPU's own for CUDA, the host's otherwise; None when it cannot be read."""
    if str(device).startswith("cuda"):
        import torch

        device = torch.device(device)
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return host_available_bytes()


def check_memory(need_bytes: float, what: str, device: torch.device | str = "cpu", hint: str = "use a smaller size") -> None:
    """Raise ResourceError when `need_bytes` exceeds the usable share of the device's free memory.

    Where free memory cannot be read at all the job goes ahead, with a warning saying it was not checked.
    """
    available = available_bytes(device)
    if available is None:
        log.warning(f"free memory of {device} is unknown; {what} was not checked against it")
        return
    if need_bytes > USABLE_SHARE * available:
        raise ResourceError(
            f"{what} needs about {need_bytes / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB is free on {device}; {hint}"
        )
