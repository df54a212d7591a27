"""Device, threads and seeds."""
import os
import platform
import random
import signal

import numpy as np
import torch

from multistyle.errors import InputError


def select_device(name: str | None = None) -> torch.device:
    """`None` or "auto" picks CUDA when available, else the CPU; an explicit unavailable device is an error."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise InputError(f"device must be a name such as cpu, cuda or cuda:N, not {type(name).__name__}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {name!r} was requested but CUDA is not available on this machine")
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device {name!r}; use cpu, cuda or cuda:N") from None


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_bf16_support() -> str:
    """What this CPU has for bfloat16 arithmetic: "AMX" (Intel's matrix units), "AVX-512-BF16" (bf16 dot products in
    the vector units, as on AMD's Zen 4), or "none" (an AVX2-only CPU, where torch emulates bf16)."""
    def has(probe: str) -> bool:  # torch.cpu's private probes, present since torch 2.1
        try:
            return bool(getattr(torch.cpu, probe, lambda: False)())
        except RuntimeError:
            return False

    if has("_is_amx_tile_supported"):
        return "AMX"
    return "AVX-512-BF16" if has("_is_avx512_bf16_supported") else "none"


def has_native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 convolutions run natively on this CPU, AMX or AVX-512-BF16: measured 1.6-2.7x faster than
    fp32 on both (docs/benchmarks.md, Precision); an AVX2-only CPU emulates bf16, slower than fp32. CUDA is left to an
    explicit choice."""
    if device.type != "cpu" or cpu_bf16_support() == "none":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (RuntimeError, AttributeError):
        return False


def check_precision(precision: str, error: type[Exception] = InputError) -> None:
    if precision not in PRECISIONS:
        raise error(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def compute_dtype(precision: str, device: torch.device, *, training: bool = False) -> torch.dtype:
    """The dtype a network computes in (its weights and activations) for `precision`: "fp32", "bf16", or "auto"
    (bf16 where `has_native_bf16`, else fp32). `training`: "auto" is bf16 with AMX only: on an AVX-512-BF16 EPYC a
    tiny per-style network trained through a bf16 loss network kept no structure (0.00 against fp32's 0.24,
    tests/test_structure_measure.py), while Gatys, which optimises an image through the same network, was fine."""
    check_precision(precision)
    if precision == "auto":
        native = has_native_bf16(device) and (not training or cpu_bf16_support() == "AMX")
        return torch.bfloat16 if native else torch.float32
    return torch.bfloat16 if precision == "bf16" else torch.float32


def flush_denormals() -> bool:
    """Treat subnormal floats as zero on the CPU. A softmax at a low temperature fills tensors with
    subnormal probabilities, and Intel CPUs handle those in microcode: measured on a Xeon, a (64 x 3600)
    soft-word embedding lookup took 3.8 ms instead of 0.64 ms. Values below 1e-38 change nothing here.
    Returns False where the CPU cannot do it (then nothing changes)."""
    return torch.set_flush_denormal(True)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way for local use."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def batch_workers(requested: int | None, device: torch.device) -> int:
    """Processes for a folder batch, each computing on one thread: `requested`, or by default (None) one per thread
    torch would use on the CPU and one on a GPU. One-thread processes, because a process forked from one that has
    run torch's OpenMP threads hangs when it starts threads of its own. On a 2-core AMD EPYC two one-thread
    processes stylised a folder of 512-px photos with wave_small 1.2x faster than one process on two threads:
    reading, recolouring and writing each image run on one core either way."""
    from multistyle.core.batch import fork_workers

    if requested is not None and requested < 1:
        raise InputError(f"--workers must be 1 or more, not {requested}")
    if device.type != "cpu" or not fork_workers():
        if requested is not None and requested > 1:
            raise InputError(f"--workers {requested}: worker processes run on the CPU of Linux only; leave it out here")
        return 1
    return requested if requested is not None else torch.get_num_threads()


def one_thread() -> None:
    """A batch worker's setup (batch_workers)."""
    torch.set_num_threads(1)


def quiet_exit_on_sigterm(worker_id: int = 0) -> None:
    """DataLoader `worker_init_fn`. A SIGTERM sent to the whole job reaches the workers too; killed by
    the signal, a worker makes the main process fail before it can save. Exiting cleanly instead lets
    the main process take the signal as an interrupt, save, and then shut down."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where readable)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        return cpu


def describe_machine(device: torch.device) -> str:
    """What a run's figures were measured on: the GPU's name, or the CPU's and the threads torch uses."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()}, {torch.get_num_threads()} threads"
