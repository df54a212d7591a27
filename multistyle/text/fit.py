"""Plain supervised training, shared by the evaluation classifier and the language model."""
import math
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from torch import nn

from multistyle.core.run import TrainingRun

Example = TypeVar("Example")


def fit(
    model: nn.Module,
    examples: Sequence[Example],
    batch_loss: Callable[[list[Example]], torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    max_steps: int = 0,
    seed: int = 0,
    description: str = "training",
    show_progress: bool = False,
) -> int:
    """Adam on `batch_loss` over shuffled mini-batches for `epochs` (at most `max_steps` if > 0); returns the steps taken."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = random.Random(seed)
    total = epochs * math.ceil(len(examples) / batch_size)
    if max_steps:
        total = min(total, max_steps)
    step, recent = 0, []
    with TrainingRun(None, total=total, description=description, show_progress=show_progress) as run:
        while step < total:
            order = list(range(len(examples)))
            rng.shuffle(order)
            for start in range(0, len(order), batch_size):
                if step == total:
                    break
                model.train()
                loss = batch_loss([examples[i] for i in order[start : start + batch_size]])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                recent = (recent + [loss.item()])[-100:]
                run.advance(status=f"loss {sum(recent) / len(recent):.3f}")
    return step
