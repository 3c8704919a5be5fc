"""From robot.yaml + scene to a compiled MjModel with the MIT-mode actuator model inside MuJoCo.

`build_model` loads the robot's MJCF as the main MjSpec, deletes its own actuators, sensors and keyframes,
and adds, per joint in action order, one general actuator that evaluates at every physics step

    τ = kp·(q* − q) + kd·(dq* − dq) + τ_ff,  clamped to ±effort

as   τ = gain·ctrl + bias₁·q + bias₂·dq   with gain = 1, bias = (0, −kp, −kd) and
ctrl = kp·q* + kd·dq* + τ_ff   (see `physai.robot.command.JointCommand.to_ctrl`).

kp and kd therefore live in `actuator_biasprm` — per model, so per world in a batch — and the PD law runs at
the physics rate inside `mj_step`, with no Python callback, in Simulator and BatchSim alike. Actuator i is
joint i of the spec. Sensors are added at the IMU site (gyro, accelerometer, orientation, linear velocity)
and one contact sensor per foot body. The scene (floor, terrain, lights) is attached with prefix "scene/".
`check_spec_against_mjcf` cross-checks a RobotSpec against the robot's own MJCF.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from physai.paths import scenes_dir
from physai.robot.spec import RobotSpec, RobotSpecError

PHYSICS_DT_S = 0.002
"""Default physics period (s): 500 Hz."""

_CONTACT_FOUND = 1  # contact sensor data spec: number of contacts found
_CONTACT_REDUCE_NETFORCE = 3


@dataclass(frozen=True)
class SensorSlots:
    """Start indices into sensordata of the sensors build_model adds (-1: absent)."""

    gyro: int
    """Base angular velocity in the IMU frame (rad/s), 3 values."""
    accel: int
    """Specific force in the IMU frame (m/s²), 3 values."""
    imu_quat: int
    """IMU orientation in the world, (w, x, y, z)."""
    linvel: int
    """Linear velocity of the IMU site in its own frame (m/s), 3 values (simulation truth)."""
    feet: tuple[int, ...]
    """One index per foot body: number of contacts found."""


def load_mjspec(spec: RobotSpec) -> mujoco.MjSpec:
    """Parse the robot's MJCF, turning MuJoCo's parse error into a RobotSpecError on field `mjcf`."""
    try:
        return mujoco.MjSpec.from_file(str(spec.mjcf_path))
    except ValueError as err:
        raise RobotSpecError(spec.source, "mjcf", str(spec.mjcf_path), f"a loadable MJCF file ({err})") from err


def check_spec_against_mjcf(spec: RobotSpec) -> None:
    """Cross-check a RobotSpec against its own compiled MJCF; raise RobotSpecError on the first mismatch.

    Every listed joint exists, is a hinge or slide, and is driven by an actuator in the MJCF; its
    [lower, upper] lies inside the MJCF joint range; its effort is within the MJCF's force limits where the
    MJCF declares them; the base body, IMU site, foot bodies, camera and end-effector site exist; a
    floating-base spec (base_height_m set) has a free joint on its base body and a fixed-base one has none.
    """
    _check_compiled(spec, _compile_robot(spec, load_mjspec(spec)))


def _compile_robot(spec: RobotSpec, robot: mujoco.MjSpec) -> mujoco.MjModel:
    try:
        return robot.compile()
    except ValueError as err:
        raise RobotSpecError(spec.source, "mjcf", str(spec.mjcf_path), f"an MJCF that compiles ({err})") from err


def _check_compiled(spec: RobotSpec, model: mujoco.MjModel) -> None:
    obj = mujoco.mjtObj

    def require(kind: mujoco.mjtObj, name: str | None, field: str, what: str) -> int:
        if name is None:
            return -1
        index = mujoco.mj_name2id(model, kind, name)
        if index < 0:
            raise RobotSpecError(spec.source, field, name, f"the name of a {what} in {spec.mjcf_path.name}")
        return index

    base = require(obj.mjOBJ_BODY, spec.base_body, "base_body", "body")
    free = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    has_free_base = any(model.jnt_bodyid[j] == base for j in free)
    if spec.floating_base != has_free_base:
        expected = "null (the base body has no free joint)" if not has_free_base else "a height (free-joint base)"
        raise RobotSpecError(spec.source, "base_height_m", spec.base_height_m, expected)
    require(obj.mjOBJ_SITE, spec.imu_site, "imu_site", "site")
    require(obj.mjOBJ_SITE, spec.end_effector_site, "end_effector_site", "site")
    require(obj.mjOBJ_CAMERA, spec.camera, "camera", "camera")
    for i, foot in enumerate(spec.foot_bodies):
        require(obj.mjOBJ_BODY, foot, f"foot_bodies[{i}]", "body")

    actuated = {int(model.actuator_trnid[a, 0]): a for a in range(model.nu) if model.actuator_trntype[a] == 0}
    for i, joint in enumerate(spec.joints):
        field = f"joints[{i}]"
        jid = require(obj.mjOBJ_JOINT, joint.name, f"{field}.name", "joint")
        if int(model.jnt_type[jid]) not in (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)):
            raise RobotSpecError(spec.source, f"{field}.name", joint.name, "a hinge or slide joint")
        if jid not in actuated:
            raise RobotSpecError(spec.source, f"{field}.name", joint.name, "a joint driven by an actuator in the MJCF")
        if model.jnt_limited[jid]:
            lo, hi = (float(v) for v in model.jnt_range[jid])
            if joint.lower < lo - 1e-9:
                raise RobotSpecError(
                    spec.source, f"{field}.lower", joint.lower, f"≥ the MJCF joint range lower bound {lo:g}"
                )
            if joint.upper > hi + 1e-9:
                raise RobotSpecError(
                    spec.source, f"{field}.upper", joint.upper, f"≤ the MJCF joint range upper bound {hi:g}"
                )
        bound = _mjcf_effort_bound(model, jid, actuated[jid])
        if bound is not None and joint.effort > bound + 1e-9:
            raise RobotSpecError(spec.source, f"{field}.effort", joint.effort, f"≤ the MJCF's force limit {bound:g}")


def _mjcf_effort_bound(model: mujoco.MjModel, jid: int, act: int) -> float | None:
    """The largest |force| the MJCF allows on a joint, or None when it declares no limit."""
    if model.jnt_actfrclimited[jid]:
        return float(np.max(np.abs(model.jnt_actfrcrange[jid])))
    if model.actuator_forcelimited[act]:
        return float(np.max(np.abs(model.actuator_forcerange[act])))
    is_motor = model.actuator_biastype[act] == mujoco.mjtBias.mjBIAS_NONE and model.actuator_gaintype[act] == 0
    if is_motor and model.actuator_ctrllimited[act]:
        gain = abs(model.actuator_gainprm[act, 0] * model.actuator_gear[act, 0])
        return float(np.max(np.abs(model.actuator_ctrlrange[act])) * gain)
    return None


def describe(spec: RobotSpec) -> dict[str, float | int | str]:
    """Facts for tables: velocity dimension nv (joints + 6 for a free base), actuated joints, mass (kg), MJCF source.

    Checks the spec against the MJCF on the way (RobotSpecError on a mismatch), like every model build.
    """
    model = _compile_robot(spec, load_mjspec(spec))
    _check_compiled(spec, model)
    source = f"package {spec.mjcf_package}" if spec.mjcf_package else f"own MJCF ({spec.mjcf_path.name})"
    return {"nv": int(model.nv), "actuators": spec.n_joints, "mass_kg": float(model.body_mass.sum()), "source": source}


def scene_path(scene: str) -> str:
    """Resolve a scene name (`flat`, `rough`) or an MJCF path to a file path."""
    candidate = scenes_dir() / f"{scene}.xml"
    if candidate.is_file():
        return str(candidate)
    if scene.endswith(".xml"):
        return scene
    known = ", ".join(sorted(p.stem for p in scenes_dir().glob("*.xml")))
    raise FileNotFoundError(f"unknown scene {scene!r}; known scenes: {known} (or pass an MJCF path)")


def build_model(spec: RobotSpec, scene: str = "flat", physics_dt: float = PHYSICS_DT_S) -> mujoco.MjModel:
    """Compile robot + scene with PD actuators (actuator i = spec joint i) and the standard sensors.

    The spec is cross-checked against the robot's own MJCF first (check_spec_against_mjcf), so no model is
    ever built from a robot.yaml that disagrees with its MJCF.
    """
    robot = load_mjspec(spec)
    _check_compiled(spec, _compile_robot(spec, robot))
    for element in [*robot.actuators, *robot.sensors, *robot.keys]:
        robot.delete(element)
    robot.option.timestep = physics_dt
    robot.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST  # kd is integrated implicitly
    robot.visual.global_.offwidth = max(robot.visual.global_.offwidth, 1280)
    robot.visual.global_.offheight = max(robot.visual.global_.offheight, 720)
    for joint in spec.joints:
        _add_pd_actuator(robot, joint.name, joint.kp, joint.kd, joint.effort)
    if spec.imu_site is not None:
        site = mujoco.mjtObj.mjOBJ_SITE
        robot.add_sensor(name="imu_gyro", type=mujoco.mjtSensor.mjSENS_GYRO, objtype=site, objname=spec.imu_site)
        robot.add_sensor(
            name="imu_accel", type=mujoco.mjtSensor.mjSENS_ACCELEROMETER, objtype=site, objname=spec.imu_site
        )
        robot.add_sensor(name="imu_quat", type=mujoco.mjtSensor.mjSENS_FRAMEQUAT, objtype=site, objname=spec.imu_site)
        robot.add_sensor(
            name="imu_linvel", type=mujoco.mjtSensor.mjSENS_VELOCIMETER, objtype=site, objname=spec.imu_site
        )
    for i, foot in enumerate(spec.foot_bodies):
        sensor = robot.add_sensor(
            name=f"foot_contact_{i}",
            type=mujoco.mjtSensor.mjSENS_CONTACT,
            objtype=mujoco.mjtObj.mjOBJ_BODY,
            objname=foot,
        )
        sensor.intprm[:3] = [_CONTACT_FOUND, _CONTACT_REDUCE_NETFORCE, 1]
    world = mujoco.MjSpec.from_file(scene_path(scene))
    robot.attach(world, frame=robot.worldbody.add_frame(), prefix="scene/")
    try:
        model = robot.compile()
    except ValueError as err:
        raise RobotSpecError(
            spec.source, "mjcf", str(spec.mjcf_path), f"an MJCF that compiles with scene {scene!r} ({err})"
        ) from err
    return model


def _add_pd_actuator(robot: mujoco.MjSpec, joint: str, kp: float, kd: float, effort: float) -> None:
    actuator = robot.add_actuator(name=joint, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT)
    actuator.gaintype = mujoco.mjtGain.mjGAIN_FIXED
    actuator.biastype = mujoco.mjtBias.mjBIAS_AFFINE
    actuator.gainprm[:3] = [1.0, 0.0, 0.0]
    actuator.biasprm[:3] = [0.0, -kp, -kd]
    actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    actuator.forcerange = [-effort, effort]


def sensor_slots(model: mujoco.MjModel, spec: RobotSpec) -> SensorSlots:
    """Locate the sensors build_model added in `model` (-1 where absent)."""

    def adr(name: str) -> int:
        index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, name)
        return -1 if index < 0 else int(model.sensor_adr[index])

    return SensorSlots(
        gyro=adr("imu_gyro"),
        accel=adr("imu_accel"),
        imu_quat=adr("imu_quat"),
        linvel=adr("imu_linvel"),
        feet=tuple(adr(f"foot_contact_{i}") for i in range(len(spec.foot_bodies))),
    )
