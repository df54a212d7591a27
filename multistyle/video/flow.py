"""Optical flow between frames (OpenCV's DIS, no downloaded weights), warping, and Ruder et al. (2016)'s
reliability mask: forward-backward consistency (occlusions) and motion boundaries."""
import cv2
import numpy as np
import torch


def grey_u8(frame: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) RGB in [0, 1] -> (H, W) uint8 luminance, what the flow estimator reads."""
    rgb = frame[0].permute(1, 2, 0).clamp(0, 1).mul(255).round().byte().numpy()
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


class FlowEstimator:
    """DIS optical flow (Kroeger et al. 2016): fast on a CPU, no learned weights."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM):
        self.dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> np.ndarray:
        """(H, W, 2) flow f with source(x) ~ target(x + f(x))."""
        return self.dis.calc(grey_u8(source), grey_u8(target), None)


def warp(image: torch.Tensor, flow: np.ndarray) -> torch.Tensor:
    """`image` sampled at x + flow(x): with the flow from frame t to frame t-1, frame t-1's pixels moved to frame t."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    array = image[0].permute(1, 2, 0).numpy()
    warped = cv2.remap(array, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return torch.from_numpy(warped).permute(2, 0, 1).unsqueeze(0).contiguous()


def reliability(flow: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """(H, W) bool: where `flow` (t -> s) can be trusted. Ruder et al.: the reverse flow (s -> t), sampled where
    `flow` points, must bring the pixel back (|w + w_rev|^2 <= 0.01 (|w|^2 + |w_rev|^2) + 0.5), and the pixel must not
    sit on a motion boundary (|grad u|^2 + |grad v|^2 <= 0.01 |w|^2 + 0.002)."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    back = cv2.remap(reverse, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = np.square(flow + back).sum(-1)
    consistent = round_trip <= 0.01 * (np.square(flow).sum(-1) + np.square(back).sum(-1)) + 0.5
    du_y, du_x = np.gradient(flow[..., 0])
    dv_y, dv_x = np.gradient(flow[..., 1])
    boundary = du_x**2 + du_y**2 + dv_x**2 + dv_y**2 > 0.01 * np.square(flow).sum(-1) + 0.002
    inside = (grid_x + flow[..., 0] >= 0) & (grid_x + flow[..., 0] <= w - 1) & (grid_y + flow[..., 1] >= 0) & (grid_y + flow[..., 1] <= h - 1)
    return consistent & ~boundary & inside
