"""Levin, Lischinski & Weiss (2008)'s Matting Laplacian, and what photorealistic transfer does with it.

For an image I (H, W, 3) the Matting Laplacian M is the sparse N x N matrix (N = H * W) of the quadratic form
sum over 3x3 windows k of the residual of the best locally affine fit of a channel V to I's colours in k:
V^T M V is zero exactly when V is a locally affine function of I's colours in every window. Luan et al. (2017)
use it as a photorealism term: sum_c V_c[O]^T M V_c[O] keeps the output a locally affine recolouring of the input.

Entry (i, j) sums over the windows k holding both pixels:
    delta_ij - (1 + (I_i - mu_k)^T (Sigma_k + eps / |w| E)^-1 (I_j - mu_k)) / |w|
with mu_k, Sigma_k the window's colour mean and covariance and |w| = 9. Built here for all windows at once (one
batched 3x3 inverse, one (windows, 9, 9) block of values), then summed into a CSR matrix.
"""
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch

EPSILON = 1e-7  # Luan et al.'s regulariser of the window covariance (Levin et al. used 1e-5 to 1e-7)


def matting_laplacian(image: np.ndarray, eps: float = EPSILON, radius: int = 1) -> scipy.sparse.csr_matrix:
    """The Matting Laplacian of an (H, W, 3) image with values in [0, 1], windows (2 radius + 1) squared (3x3 by
    default), as an (H*W, H*W) float64 CSR matrix. Windows lie wholly inside the image (Levin et al.'s choice)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    h, w, _ = image.shape
    n = h * w
    side = 2 * radius + 1
    if h < side or w < side:  # no whole window: the quadratic form is empty
        return scipy.sparse.csr_matrix((n, n))
    size = side * side
    index = np.arange(n).reshape(h, w)
    # (windows, size): the flat index of every pixel in every window, by stacking shifted views
    wh, ww = h - side + 1, w - side + 1
    win = np.stack([index[dy:dy + wh, dx:dx + ww].ravel() for dy in range(side) for dx in range(side)], axis=1)
    colours = image.reshape(n, 3)[win]  # (windows, size, 3)
    mean = colours.mean(axis=1, keepdims=True)
    centred = colours - mean
    cov = np.einsum("kpi,kpj->kij", centred, centred) / size
    inverse = np.linalg.inv(cov + (eps / size) * np.eye(3))
    values = (1.0 + np.einsum("kpi,kij,kqj->kpq", centred, inverse, centred)) / size  # (windows, size, size)
    values = np.eye(size)[None] - values
    rows = np.repeat(win, size, axis=1).ravel()
    cols = np.tile(win, (1, size)).ravel()
    laplacian = scipy.sparse.coo_matrix((values.ravel(), (rows, cols)), shape=(n, n)).tocsr()  # duplicates summed
    laplacian.sum_duplicates()
    return laplacian


def tensor_laplacian(image: torch.Tensor, eps: float = EPSILON) -> scipy.sparse.csr_matrix:
    """The Matting Laplacian of a (1, 3, H, W) tensor in [0, 1]."""
    return matting_laplacian(image[0].permute(1, 2, 0).detach().cpu().double().numpy(), eps)


class _QuadraticForm(torch.autograd.Function):
    """sum_c x_c^T L x_c for a (1, C, H, W) image, with L a scipy sparse matrix; the gradient is 2 L x_c."""

    @staticmethod
    def forward(ctx, image: torch.Tensor, laplacian) -> torch.Tensor:
        flat = image.detach()[0].flatten(1).T.cpu().double().numpy()  # (N, C)
        product = laplacian @ flat
        ctx.save_for_backward(torch.from_numpy(2.0 * product.T.copy()).to(image.dtype).to(image.device).reshape(image.shape))
        return image.new_tensor(float((flat * product).sum()))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (gradient,) = ctx.saved_tensors
        return grad_output * gradient, None


def photorealism_loss(image: torch.Tensor, laplacian) -> torch.Tensor:
    """Luan et al.'s regulariser sum_c V_c[O]^T M V_c[O] for a (1, 3, H, W) output O, divided by the pixel count
    so that its weight means the same at every size."""
    return _QuadraticForm.apply(image, laplacian) / (image.shape[-1] * image.shape[-2])


def affine_smooth(image: torch.Tensor, laplacian, strength: float = 1e-4, tol: float = 1e-6,
                  max_iterations: int = 500) -> torch.Tensor:
    """`image` (1, 3, H, W) pulled toward a locally affine function of the guide's colours (the guide being the photo
    `laplacian` was built from): per channel y = argmin y^T L y + strength ||y - x||^2, i.e. (L + strength E) y =
    strength x, solved by conjugate gradients. Smaller `strength` smooths more (Li et al. 2018's closed-form
    smoothing, with Levin et al.'s Laplacian as the affinity)."""
    n = image.shape[-1] * image.shape[-2]
    system = laplacian + strength * scipy.sparse.identity(n, format="csr")
    flat = image[0].flatten(1).double().cpu().numpy()
    out = np.empty_like(flat)
    for c in range(flat.shape[0]):
        out[c], _ = scipy.sparse.linalg.cg(system, strength * flat[c], x0=flat[c], rtol=tol, maxiter=max_iterations)
    return torch.from_numpy(out).float().reshape(image.shape).clamp(0, 1)
