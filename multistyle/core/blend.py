"""One contract for style blends, whatever the method: one finite, non-negative weight per style with a
positive sum; the weights are normalised to sum to 1 (so 2,1 means 2/3 and 1/3)."""
import math
from collections.abc import Sequence

from multistyle.errors import InputError


def blend_weights(weights: Sequence[float] | None, n_styles: int) -> list[float]:
    """The normalised weights, equal ones when `weights` is None; an InputError otherwise."""
    if n_styles < 1:
        raise InputError("give at least one style")
    if weights is None:
        return [1.0 / n_styles] * n_styles
    if len(weights) != n_styles:
        raise InputError(f"--style-blend has {len(weights)} weights for {n_styles} style images")
    if not all(isinstance(w, (int, float)) and math.isfinite(w) for w in weights):
        raise InputError(f"--style-blend weights must be finite numbers, not {','.join(map(str, weights))}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InputError(f"--style-blend weights must be non-negative with a positive sum, not {','.join(f'{w:g}' for w in weights)}")
    total = sum(weights)
    return [w / total for w in weights]
