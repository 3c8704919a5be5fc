"""Reward terms as small pure functions: arrays in, one unweighted value per world out (STYLE.md #4).

Sums over joints accumulate strictly left to right (`_sum_squares`), so a world's reward is bit-identical
however many worlds run beside it; numpy's sum/dot change their summation order with batch size and alignment.

Inputs have any leading (batch) shape `...`; each term returns an array of shape `...`. Every term is ≥ 0;
the task config's weight decides whether it rewards or penalises. The envs report weight × term per name
in `info["reward_terms"]`, and the step reward is their sum.
"""

from __future__ import annotations

import numpy as np


def _sum_squares(x: np.ndarray) -> np.ndarray:
    """Σ x² over the last axis, accumulated in order (a cumulative sum cannot reorder its additions)."""
    return np.cumsum(x * x, axis=-1)[..., -1]


def alive(fallen: np.ndarray) -> np.ndarray:
    """1 while the robot has not fallen, else 0."""
    return 1.0 - np.asarray(fallen, dtype=np.float64)


def termination(fallen: np.ndarray) -> np.ndarray:
    """1 on the step the robot falls, else 0."""
    return np.asarray(fallen, dtype=np.float64)


def upright(projected_gravity: np.ndarray, sigma: float = 0.1) -> np.ndarray:
    """exp(−|g_xy|²/σ) of the unit gravity direction in the base/IMU frame, (..., 3): 1 when upright."""
    g = np.asarray(projected_gravity, dtype=np.float64)
    return np.exp(-(g[..., 0] ** 2 + g[..., 1] ** 2) / sigma)


def base_height_error(height_m: np.ndarray, target_m: float) -> np.ndarray:
    """Squared base height error (m²)."""
    return (np.asarray(height_m, dtype=np.float64) - target_m) ** 2


def joint_deviation(joint_pos: np.ndarray, default_pos: np.ndarray) -> np.ndarray:
    """Σ (q − q_default)² over joints (rad²); joint_pos (..., n), default_pos (n,)."""
    d = np.asarray(joint_pos, dtype=np.float64) - default_pos
    return _sum_squares(d)


def action_rate(action: np.ndarray, last_action: np.ndarray) -> np.ndarray:
    """Σ (a_t − a_{t−1})² of raw policy outputs, (..., n)."""
    d = np.asarray(action, dtype=np.float64) - last_action
    return _sum_squares(d)


def torque(joint_torque: np.ndarray, effort_limit: np.ndarray) -> np.ndarray:
    """Σ (τ / τ_max)² of applied torques normalised by the joint effort limits, (..., n)."""
    r = np.asarray(joint_torque, dtype=np.float64) / effort_limit
    return _sum_squares(r)


def distance_shaping(distance_m: np.ndarray, sigma_m: float) -> np.ndarray:
    """exp(−d/σ) of the end-effector-to-target distance d (m): 1 at the target."""
    return np.exp(-np.asarray(distance_m, dtype=np.float64) / sigma_m)


def success(distance_m: np.ndarray, tolerance_m: float) -> np.ndarray:
    """1 where d ≤ tolerance (m), else 0."""
    return (np.asarray(distance_m) <= tolerance_m).astype(np.float64)
