"""The one training scaffolding: deferred interrupts, time limits, logs."""
import json
import os
import signal
import time

import pytest
import torch

from multistyle.core.run import TrainingInterrupted, TrainingRun, check_run_folder, trim_log
from multistyle.errors import InputError


def test_ctrl_c_and_sigterm_finish_the_step_then_save_once(tmp_path):
    for signum in (signal.SIGINT, signal.SIGTERM):
        before = signal.getsignal(signum)  # SIG_IGN when the suite runs in a background job
        saved, finished = [], []
        with pytest.raises(TrainingInterrupted, match=r"interrupted at step 3: saved state at 3"):
            with TrainingRun(tmp_path, total=10, show_progress=False, save=lambda: saved.append(len(finished)) or f"state at {len(finished)}") as run:
                for step in range(10):
                    if step == 2:
                        os.kill(os.getpid(), signum)  # arrives in the middle of step 3
                    finished.append(step)  # the step completes before the interrupt is honoured
                    run.advance()
        assert finished == [0, 1, 2] and saved == [3]
        assert signal.getsignal(signum) == before, "handlers restored"


def test_a_second_interrupt_stops_at_once_without_saving(tmp_path):
    saved = []
    with pytest.raises(TrainingInterrupted, match="interrupted twice"):
        with TrainingRun(tmp_path, total=10, show_progress=False, save=lambda: saved.append(1) or "x"):
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert saved == []


def test_time_limit_and_log(tmp_path):
    with TrainingRun(tmp_path, total=5, show_progress=False, max_minutes=1e-9) as run:
        assert run.out_of_time
        run.log({"step": 1, "loss": 0.5})
        run.log({"step": 2, "loss": 0.4})
    with TrainingRun(tmp_path, total=5, show_progress=False) as run:
        assert not run.out_of_time
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines == [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.4}]
    with open(tmp_path / "log.jsonl", "a") as f:
        f.write('{"step": 3, "loss": 0.3}\n{"step": 4, "lo')  # written after the last checkpoint, then killed mid-line
    trim_log(tmp_path / "log.jsonl", "step", 2)
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [1, 2]


def test_run_folders(tmp_path):
    from multistyle.core.checkpoint import save_training_state

    check_run_folder(tmp_path / "new", resume=False)
    (tmp_path / "killed_early").mkdir()
    (tmp_path / "killed_early" / "config.json").write_text("{}")
    check_run_folder(tmp_path / "killed_early", resume=False)  # nothing was saved: it may start again
    with pytest.raises(InputError, match="no checkpoint to resume"):
        check_run_folder(tmp_path / "killed_early", resume=True)
    save_training_state(tmp_path / "done" / "checkpoint", {}, {"step": 1})
    with pytest.raises(InputError, match="already holds a training run"):
        check_run_folder(tmp_path / "done", resume=False)
    check_run_folder(tmp_path / "done", resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_run_folder(tmp_path / "file", resume=False)


def test_a_step_with_a_non_finite_gradient_leaves_the_weights_alone():
    from multistyle.core.run import optimizer_step

    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([weight], lr=0.1)
    record = optimizer_step(optimizer, {"loss": torch.sqrt(weight - weight.detach()).sum()}, 1)  # value 0, gradient NaN
    assert record["total"] == 0 and torch.equal(weight.detach(), torch.ones(3))
    optimizer_step(optimizer, {"loss": (weight * 1e30).sum()}, 2)  # every element finite, their norm overflows
    assert torch.equal(weight.detach(), torch.ones(3)), "an overflowing gradient is skipped too"
    optimizer_step(optimizer, {"loss": weight.square().sum()}, 3)
    assert (weight.detach() < 1).all(), "a finite gradient still updates"
