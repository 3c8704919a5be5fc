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


def tracking(error_sq: np.ndarray, sigma: float) -> np.ndarray:
    """exp(−e²/σ) of a squared tracking error e² ((m/s)² or (rad/s)²): 1 on target."""
    return np.exp(-np.asarray(error_sq, dtype=np.float64) / sigma)


def squared(x: np.ndarray) -> np.ndarray:
    """Σ x² over the last axis, (..., k) → (...) (e.g. ω_x² + ω_y²)."""
    return _sum_squares(np.asarray(x, dtype=np.float64))


def contact_match(contact: np.ndarray, stance: np.ndarray) -> np.ndarray:
    """Number of feet whose contact equals the gait clock's stance, (..., n_feet) bools → (...)."""
    match = (np.asarray(contact, dtype=bool) == np.asarray(stance, dtype=bool)).astype(np.float64)
    return np.cumsum(match, axis=-1)[..., -1]


def swing_height(clearance_m: np.ndarray, swing: np.ndarray, target_m: float) -> np.ndarray:
    """Σ over swinging feet of (clearance − target)² (m²); clearance and swing (..., n_feet)."""
    err = (np.asarray(clearance_m, dtype=np.float64) - target_m) * np.asarray(swing, dtype=np.float64)
    return _sum_squares(err)


def foot_slip(foot_vel: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Σ over feet in contact of |v_foot|² (m²/s²); foot_vel (..., n_feet, 3), contact (..., n_feet)."""
    speed_sq = _sum_squares(np.asarray(foot_vel, dtype=np.float64))  # (..., n_feet)
    return np.cumsum(speed_sq * np.asarray(contact, dtype=np.float64), axis=-1)[..., -1]


def joint_limits(joint_pos: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Σ of how far joints are outside [lower, upper] (rad), (..., n) with (n,) bounds (the soft limits)."""
    q = np.asarray(joint_pos, dtype=np.float64)
    beyond = np.maximum(lower - q, 0.0) + np.maximum(q - upper, 0.0)
    return np.cumsum(beyond, axis=-1)[..., -1]


def stand_still(joint_pos: np.ndarray, default_pos: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """Σ |q − q_default| (rad) where `standing` (...) is True (the command is zero), else 0."""
    d = np.abs(np.asarray(joint_pos, dtype=np.float64) - default_pos)
    return np.cumsum(d, axis=-1)[..., -1] * np.asarray(standing, dtype=np.float64)
