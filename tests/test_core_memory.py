"""Memory guards look at the device the job runs on, and never pass silently."""
import builtins

import pytest
import torch

from multistyle.core import memory
from multistyle.core.vgg import check_memory_for_vgg
from multistyle.errors import ResourceError


def test_cuda_jobs_are_checked_against_the_gpu_not_the_host(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2 * 2**30, 80 * 2**30))
    monkeypatch.setattr(memory, "host_available_bytes", lambda: 1000 * 2**30)
    with pytest.raises(ResourceError, match="free on cuda"):
        check_memory_for_vgg(4000, 4000, device=torch.device("cuda"))
    check_memory_for_vgg(4000, 4000, device="cpu")  # 1000 GiB of host memory is plenty


def test_unreadable_meminfo_falls_back_to_sysconf(monkeypatch):
    real_open = builtins.open

    def no_meminfo(path, *args, **kwargs):
        if str(path) == "/proc/meminfo":
            raise PermissionError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_meminfo)
    available = memory.host_available_bytes()
    assert available is not None and available > 0
    with pytest.raises(ResourceError, match="GiB"):
        memory.check_memory(10 * available, "a test job")


def test_audio_extractors_check_their_own_activations(monkeypatch):
    from multistyle.audio.auditory import AuditoryStatistics
    from multistyle.audio.extractors import AuditoryExtractor, RandomConvExtractor

    monkeypatch.setattr(memory, "host_available_bytes", lambda: 2**30)  # 1 GiB free
    random_net = RandomConvExtractor(n_freqs=64, filters=4096)
    random_net.check_fits(torch.zeros(64, 1000))  # 4096 x 1000 floats: tens of MB
    with pytest.raises(ResourceError, match="RandomConvExtractor"):
        random_net.check_fits(torch.zeros(1).expand(64, 200_000))  # a 3-hour clip's frames
    auditory = AuditoryExtractor(AuditoryStatistics(128, 8000, 64, n_bands=8))
    with pytest.raises(ResourceError):
        auditory.check_fits(torch.zeros(1).expand(65, 20_000_000))  # shape only, nothing allocated
