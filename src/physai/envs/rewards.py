"""Reward terms as small pure functions: arrays in, one unweighted float out (STYLE.md #4).

Every term is ≥ 0; the task config's weight decides whether it rewards or penalises. The envs report
weight × term per name in `info["reward_terms"]`, and the step reward is their sum.
"""

from __future__ import annotations

import numpy as np


def alive(fallen: bool) -> float:
    """1 while the robot has not fallen, else 0."""
    return 0.0 if fallen else 1.0


def termination(fallen: bool) -> float:
    """1 on the step the robot falls, else 0."""
    return 1.0 if fallen else 0.0


def upright(projected_gravity: np.ndarray, sigma: float = 0.1) -> float:
    """exp(−|g_xy|²/σ) of the unit gravity direction in the base/IMU frame, shape (3,): 1 when upright."""
    g = np.asarray(projected_gravity, dtype=np.float64)
    return float(np.exp(-(g[0] ** 2 + g[1] ** 2) / sigma))


def base_height_error(height_m: float, target_m: float) -> float:
    """Squared base height error (m²)."""
    return float((height_m - target_m) ** 2)


def joint_deviation(joint_pos: np.ndarray, default_pos: np.ndarray) -> float:
    """Σ (q − q_default)² over joints (rad²); shapes (n_joints,)."""
    d = np.asarray(joint_pos, dtype=np.float64) - np.asarray(default_pos, dtype=np.float64)
    return float(d @ d)


def action_rate(action: np.ndarray, last_action: np.ndarray) -> float:
    """Σ (a_t − a_{t−1})² of raw policy outputs, shapes (n_joints,)."""
    d = np.asarray(action, dtype=np.float64) - np.asarray(last_action, dtype=np.float64)
    return float(d @ d)


def torque(joint_torque: np.ndarray, effort_limit: np.ndarray) -> float:
    """Σ (τ / τ_max)² of applied torques normalised by the joint effort limits, shapes (n_joints,)."""
    r = np.asarray(joint_torque, dtype=np.float64) / np.asarray(effort_limit, dtype=np.float64)
    return float(r @ r)


def distance_shaping(distance_m: float, sigma_m: float) -> float:
    """exp(−d/σ) of the end-effector-to-target distance d (m): 1 at the target."""
    return float(np.exp(-distance_m / sigma_m))


def success(distance_m: float, tolerance_m: float) -> float:
    """1 when d ≤ tolerance (m), else 0."""
    return 1.0 if distance_m <= tolerance_m else 0.0
