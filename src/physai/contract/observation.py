"""Observations and actions from a PolicyContract: the only code that builds a policy's input or reads its output.

`build_observation` is a pure function of (inputs, command, last_action, contract[, history]); training envs,
the ROS policy node and evaluation all call it, so they cannot drift apart. Terms with history > 1 need their
previous values, passed explicitly as `history`; `ObservationBuilder` keeps that buffer for a step loop.

    obs = build_observation(state, command, last_action, contract)   # (obs_dim,) or (..., obs_dim) float32
    q_target = action_to_targets(action, contract)                    # (n_joints,) or (..., n_joints) rad
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from physai.contract.contract import PolicyContract
from physai.contract.terms import gait_clock


def compute_terms(
    inputs: Any, command: Any, last_action: Any, contract: PolicyContract, clock_s: Any = None
) -> dict[str, np.ndarray]:
    """The current, scaled value of every observation term, float64, shape (..., term size) each.

    `inputs`: any object with joint_pos, joint_vel (..., n_joints) in contract joint order, gyro (..., 3) and
    imu_quat (..., 4) (w, x, y, z), plus base_lin_vel / target_pos / ee_pos (..., 3) when the contract uses
    those terms (a `physai.sim.RobotState` fits). `command`: (..., 3) (vx m/s, vy m/s, yaw rate rad/s) or None
    when the contract has no `velocity_command`. `last_action`: the previous policy action after the contract clip (..., n_joints),
    zeros after a reset, or None when unused. `clock_s`: gait clock time (s), shape (...), when the contract
    has `gait_phase` (ObservationBuilder counts it). Leading dims broadcast against each other (e.g. one
    command for a batch of states). Raises ValueError naming a missing or misshapen input.
    """
    default = np.asarray(contract.default_pos, dtype=np.float64)
    clock = None
    if clock_s is not None and contract.gait_frequency_hz is not None:
        clock = gait_clock(clock_s, contract.gait_frequency_hz)
    values = {
        term.name: term.definition.compute(inputs, command, last_action, default, clock) * np.asarray(term.scale)
        for term in contract.observation
    }
    batch = _batch_shape({name: v.shape[:-1] for name, v in values.items()})
    return {name: np.broadcast_to(v, (*batch, v.shape[-1])) for name, v in values.items()}


def assemble_observation(
    terms: Mapping[str, np.ndarray],
    contract: PolicyContract,
    history: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Concatenate scaled term values (from `compute_terms`) and their history into the observation, float32.

    `history[name]` holds the previous H−1 scaled values of each term with history H > 1, shape
    (..., H−1, size), newest first; its block in the observation is [current, history[0], …, history[H−2]].
    """
    n = contract.n_joints
    stacked = {t.name for t in contract.observation if t.history > 1}
    unknown = sorted(set(history or {}) - stacked)
    if unknown:
        raise ValueError(f"history has entries for {unknown}, which are not observation terms with history > 1")
    past: dict[str, np.ndarray] = {}
    for term in contract.observation:
        if term.history == 1:
            continue
        size, depth = term.size(n), term.history - 1
        value = None if history is None else history.get(term.name)
        if value is None:
            raise ValueError(
                f"observation term '{term.name}' has history {term.history}: pass its previous {depth} scaled "
                f"values as history['{term.name}'], shape (..., {depth}, {size}), newest first "
                "(ObservationBuilder keeps this buffer)"
            )
        value = np.asarray(value, dtype=np.float64)
        if value.ndim < 2 or value.shape[-2:] != (depth, size):
            raise ValueError(
                f"history['{term.name}'] has shape {value.shape}; expected (..., {depth}, {size}), newest first"
            )
        past[term.name] = value
    shapes = {name: v.shape[:-1] for name, v in terms.items()}
    shapes.update({f"history['{name}']": v.shape[:-2] for name, v in past.items()})
    batch = _batch_shape(shapes)
    blocks = []
    for term in contract.observation:
        blocks.append(np.broadcast_to(terms[term.name], (*batch, term.size(n))))
        if term.name in past:
            block = np.broadcast_to(past[term.name], (*batch, term.history - 1, term.size(n)))
            blocks.append(block.reshape(*batch, -1))
    return np.concatenate(blocks, axis=-1).astype(np.float32)


def build_observation(
    inputs: Any,
    command: Any,
    last_action: Any,
    contract: PolicyContract,
    history: Mapping[str, np.ndarray] | None = None,
    clock_s: Any = None,
) -> np.ndarray:
    """The policy observation, float32, shape (obs_dim,) or (..., obs_dim). Pure: no state is kept.

    Arguments as in `compute_terms`; `history` as in `assemble_observation` (needed only for terms with
    history > 1; `ObservationBuilder` keeps it across steps, and the gait clock too).
    """
    return assemble_observation(compute_terms(inputs, command, last_action, contract, clock_s), contract, history)


def clamp_command(command: Any, contract: PolicyContract) -> tuple[np.ndarray, bool]:
    """(command clipped into the contract's trained `command_ranges`, whether anything was clipped).

    `command`: (vx m/s, vy m/s, yaw rate rad/s), shape (..., 3). Contracts without ranges pass it unchanged.
    """
    c = np.asarray(command, dtype=np.float64)
    if contract.command_ranges is None:
        return c, False
    ranges = np.asarray(contract.command_ranges)
    clipped = np.clip(c, ranges[:, 0], ranges[:, 1])
    return clipped, bool((clipped != c).any())


def clip_action(action: Any, contract: PolicyContract) -> np.ndarray:
    """The action the contract lets through: clip(action, −clip, clip), float64 (..., n_joints).

    The one action clip: what the env applies and keeps as last_action, what the robot-side runner applies.
    NaN passes through unchanged for the safety layer to reject.
    """
    a = np.asarray(action, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] != contract.action_dim:
        raise ValueError(f"action has shape {a.shape}; expected (..., {contract.action_dim}) in contract joint order")
    clip = contract.action.clip
    return a if clip is None else np.clip(a, -clip, clip)


def action_to_targets(action: Any, contract: PolicyContract) -> np.ndarray:
    """Joint position targets q* = default_pos + scale · clip_action(action) (rad or m), float64.

    `action`: raw policy output (..., n_joints) in contract joint order. Limits are not applied here
    (SafetyGuard clamps).
    """
    return np.asarray(contract.default_pos) + np.asarray(contract.action.scale) * clip_action(action, contract)


class ObservationBuilder:
    """Builds observations step by step, keeping the history buffers of terms with history > 1.

    Call once per policy step (every `contract.control_dt_s`). After construction or `reset`, the past entries
    are filled as `contract.history_fill` says ("current": copies of the first value; "zeros"). The batch shape
    is `batch_shape` or that of the first call; `reset(mask)` restarts the history of the selected worlds only.
    A call with `worlds=` (indices into a (num_worlds,) batch) observes and advances just those worlds, e.g.
    the ones a vectorised env has just reset.

    The builder is also the gait clock: it counts the calls since each world's reset, and the clock time of
    a call is count × control_dt_s (0 on the first call after a reset). `clock_s()` reads it.
    """

    def __init__(self, contract: PolicyContract, batch_shape: tuple[int, ...] | None = None) -> None:
        self.contract = contract
        self._stacked = tuple(t for t in contract.observation if t.history > 1)
        self._history: dict[str, np.ndarray] | None = None
        self._fresh: np.ndarray | None = None
        self._steps: np.ndarray | None = None
        if batch_shape is not None:
            self._allocate(tuple(batch_shape))

    def _allocate(self, batch: tuple[int, ...]) -> None:
        n = self.contract.n_joints
        self._history = {t.name: np.zeros((*batch, t.history - 1, t.size(n))) for t in self._stacked}
        self._fresh = np.ones(batch, dtype=bool)
        self._steps = np.zeros(batch, dtype=np.int64)

    def clock_s(self, worlds: Any = None) -> np.ndarray | float:
        """Gait clock time (s) the next call will use: policy steps since reset × control_dt_s."""
        if self._steps is None or self._fresh is None:
            return 0.0
        rows: Any = ... if worlds is None else np.asarray(worlds, dtype=np.int64)
        return np.where(self._fresh[rows], 0, self._steps[rows]) * self.contract.control_dt_s

    @property
    def history(self) -> dict[str, np.ndarray]:
        """Copy of the buffer: previous scaled values per stacked term, (..., H−1, size), newest first."""
        return {k: v.copy() for k, v in (self._history or {}).items()}

    def reset(self, mask: Any = None) -> None:
        """Forget the history of every world (mask None) or of the worlds where `mask` (batch shape) is True."""
        if self._fresh is None:
            return
        if mask is None:
            self._fresh[...] = True
            return
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self._fresh.shape:
            raise ValueError(f"reset mask has shape {mask.shape}; expected the batch shape {self._fresh.shape}")
        self._fresh |= mask

    def __call__(self, inputs: Any, command: Any, last_action: Any, worlds: Any = None) -> np.ndarray:
        """The observation for this step (float32, (..., obs_dim)); then the history advances by one step.

        With `worlds` (an index array into a 1-D batch), inputs hold just those worlds, in that order.
        """
        gait = self.contract.gait_frequency_hz is not None
        # the same batch as last step (the usual case, known from joint_pos): its own clock, terms computed once
        same = self._fresh is not None and self._fresh.shape == np.shape(getattr(inputs, "joint_pos", ()))[:-1]
        clock = self.clock_s(worlds) if worlds is not None else (self.clock_s() if same else 0.0)
        terms = compute_terms(inputs, command, last_action, self.contract, clock)
        batch = next(iter(terms.values())).shape[:-1]
        if worlds is None:
            if self._fresh is None or self._fresh.shape != batch:
                self._allocate(batch)  # a new batch shape starts its clock (and history) afresh
                if same and gait:  # joint_pos broadcast to another batch: that batch's clock starts at 0
                    terms = compute_terms(inputs, command, last_action, self.contract, self.clock_s())
            elif not same and gait:  # the batch agreed only after broadcasting: its own count
                terms = compute_terms(inputs, command, last_action, self.contract, self.clock_s())
            rows: Any = ...
        else:
            if self._fresh is None or self._fresh.ndim != 1:
                raise ValueError("observing a subset of worlds needs a 1-D batch: pass batch_shape=(num_worlds,)")
            rows = np.asarray(worlds, dtype=np.int64)
        assert self._history is not None and self._fresh is not None and self._steps is not None
        fresh = self._fresh[rows]
        past = {name: buf[rows] for name, buf in self._history.items()}  # copies for index rows, views for ...
        if fresh.any():
            for name, buf in past.items():
                buf[fresh] = terms[name][fresh][..., None, :] if self.contract.history_fill == "current" else 0.0
        obs = assemble_observation(terms, self.contract, past)
        for name, buf in past.items():
            self._history[name][rows] = np.concatenate([terms[name][..., None, :], buf[..., :-1, :]], axis=-2)
        self._steps[rows] = np.where(fresh, 0, self._steps[rows]) + 1
        self._fresh[rows] = False
        return obs


def _batch_shape(shapes: Mapping[str, tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"observation inputs have incompatible leading (batch) shapes: {listed}") from None
