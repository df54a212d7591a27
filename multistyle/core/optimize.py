"""Optimisation of an input tensor (the Gatys / Grinstein family): L-BFGS or Adam, with a progress bar.

The loss function returns a dict of already-weighted loss terms; their sum is minimised. The loop
keeps the best iterate, stops early on a plateau, and records every iteration's terms.
"""
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from multistyle.core.progress import make_progress
from multistyle.errors import OptimizationError

LossFn = Callable[[torch.Tensor], dict[str, torch.Tensor]]
Callback = Callable[[int, torch.Tensor, dict[str, float]], None]  # (evaluation, x, its loss terms)

DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}


@dataclass
class OptimizationResult:
    output: torch.Tensor
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def iterations(self) -> int:
        return len(self.history)

    @property
    def final_terms(self) -> dict[str, float]:
        return self.history[-1] if self.history else {}


def _has_plateaued(totals: list[float], patience: int, rel_tol: float) -> bool:
    if patience <= 0 or len(totals) <= patience:
        return False
    before, now = min(totals[:-patience]), min(totals)
    return before - now <= rel_tol * abs(before)


class _BudgetSpent(Exception):
    """Raised inside the closure to leave the optimiser's own loop."""


def optimize_input(
    init: torch.Tensor,
    loss_fn: LossFn,
    steps: int,
    *,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    callback: Callback | None = None,
    patience: int = 0,
    rel_tol: float = 1e-4,
    description: str = "optimising",
    show_progress: bool = False,
) -> OptimizationResult:
    """Minimise sum(loss_fn(x).values()) over x, starting from `init` (which is not modified).

    `steps` counts evaluations of the loss and its gradient, the unit of cost. L-BFGS uses a strong
    Wolfe line search, which keeps it stable whatever the loss's scale. The best iterate seen is
    returned; OptimizationError when not even the first evaluation was finite. `patience` > 0 stops once the best total improved by less than `rel_tol` (relative) over
    the last `patience` evaluations.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    x = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)  # L-BFGS views its grad flat
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [x], lr=lr, max_iter=steps, max_eval=steps, history_size=50, line_search_fn="strong_wolfe"
        )
    elif optimizer == "adam":
        opt = torch.optim.Adam([x], lr=lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; use lbfgs or adam")

    history: list[dict[str, float]] = []
    best = {"total": float("inf"), "x": x.detach().clone()}
    stopped_early = False
    start = time.perf_counter()

    with make_progress(disable=not show_progress) as progress:
        task = progress.add_task(description, total=steps, status="")

        def closure() -> torch.Tensor:
            nonlocal stopped_early
            if len(history) >= steps:
                raise _BudgetSpent
            if _has_plateaued([h["total"] for h in history], patience, rel_tol):
                stopped_early = True
                raise _BudgetSpent
            opt.zero_grad(set_to_none=True)
            terms = loss_fn(x)
            total = sum(terms.values())
            if not torch.isfinite(total):
                stopped_early = True  # diverged: the best finite iterate is kept
                raise _BudgetSpent
            total.backward()
            record = {name: float(value.detach()) for name, value in terms.items()}
            record["total"] = float(total.detach())
            history.append(record)
            if record["total"] < best["total"]:
                best.update(total=record["total"], x=x.detach().clone())
            progress.update(task, advance=1, status="  ".join(f"{k} {v:.3g}" for k, v in record.items()))
            if callback is not None:
                callback(len(history), x.detach(), record)
            return total

        try:
            if optimizer == "lbfgs":
                while len(history) < steps:  # L-BFGS returns early when its own tolerances are met
                    before = len(history)
                    opt.step(closure)
                    if len(history) - before <= 1:
                        break
            else:
                for _ in range(steps):
                    opt.step(closure)
        except _BudgetSpent:
            pass

    if not history:
        raise OptimizationError("the loss was not finite at the first evaluation: check the weights and inputs")
    return OptimizationResult(best["x"], history, stopped_early, time.perf_counter() - start)
