"""The `physai` command. Each subcommand is a thin wrapper over a library function; `--help` on each explains it.

physai robots                                   table of robots: name, DoF, actuators, mass, source
physai robot show unitree_g1                    one robot's spec: frames, joints, limits, gains
physai sim --robot unitree_g1 --seconds 5 --video out.mp4
physai bench sim --robot unitree_g1 --json bench_sim.json
physai bench driver --json bench_driver.json --seconds 60
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict

from physai.fields import add_config_arguments

Handler = Callable[[argparse.Namespace], int]


def _cmd_robots(args: argparse.Namespace) -> int:
    from physai.robot import RobotSpec, available_robots
    from physai.sim.mjcf import describe

    rows = []
    for name in available_robots():
        spec = RobotSpec.load(name)
        facts = describe(spec)
        base = "floating" if spec.floating_base else "fixed"
        rows.append((name, facts["actuators"], base, facts["nv"], f"{facts['mass_kg']:.1f}", facts["source"]))
    _print_table(("name", "joints", "base", "nv", "mass kg", "source"), rows)
    return 0


def _cmd_robot_show(args: argparse.Namespace) -> int:
    from physai.robot import RobotSpec
    from physai.sim.mjcf import describe

    spec = RobotSpec.load(args.name)
    facts = describe(spec)
    print(f"{spec.name}: {spec.description}")
    for key, value in (
        ("robot.yaml", spec.source),
        ("mjcf", spec.mjcf_path),
        ("source", facts["source"]),
        (
            "joints",
            f"{facts['actuators']} actuated; nv = {facts['nv']} (with the free base's 6)"
            if spec.floating_base
            else f"{facts['actuators']} actuated; nv = {facts['nv']}",
        ),
        ("mass", f"{facts['mass_kg']:.2f} kg"),
        ("base body", spec.base_body),
        ("floating base", f"yes, starts at z = {spec.base_height_m} m" if spec.floating_base else "no (fixed)"),
        ("imu site", spec.imu_site),
        ("foot bodies", ", ".join(spec.foot_bodies) or "-"),
        ("camera", spec.camera),
        ("end effector", spec.end_effector_site),
    ):
        print(f"  {key:<14} {value}")
    rows = [
        (
            i,
            j.name,
            f"{j.lower:+.3f}",
            f"{j.upper:+.3f}",
            f"{j.default:+.3f}",
            f"{j.velocity:g}",
            f"{j.effort:g}",
            f"{j.kp:g}",
            f"{j.kd:g}",
        )
        for i, j in enumerate(spec.joints)
    ]
    _print_table(("#", "joint", "lower", "upper", "default", "vel", "effort", "kp", "kd"), rows)
    return 0


def _cmd_robot_kinematics(args: argparse.Namespace) -> int:
    from physai.robot import RobotSpec
    from physai.sim.kinematics import chain_from_model, write_chain

    spec = RobotSpec.load(args.name)
    chain = chain_from_model(spec)
    path = write_chain(spec)
    print(f"{path}: {spec.base_body} → {chain.site} through {', '.join(chain.joint_names)}")
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from physai.sim.headless import hold_pose

    summary = hold_pose(
        args.robot, args.seconds, scene=args.scene, video=args.video, fps=args.fps, seed=args.seed, noise=args.noise
    )
    print(
        f"{summary.robot}: {summary.seconds:.2f} s simulated in {summary.wall_s:.1f} s wall; "
        f"final base height {summary.final_base_height_m:.3f} m, max tilt {summary.max_tilt_rad:.3f} rad, "
        f"{'FELL' if summary.fell else 'stayed up' if summary.floating_base else 'fixed base'}"
    )
    if summary.video:
        print(f"video: {summary.video} ({summary.frames} frames at {args.fps} fps)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(asdict(summary), f, indent=2)
    return 0


def _cmd_bench_sim(args: argparse.Namespace) -> int:
    from physai.bench import sim

    sim.run(
        robot=args.robot,
        steps=args.steps,
        decimation=args.decimation,
        nsim=args.nsim,
        threads=args.threads,
        repeats=args.repeats,
        json_path=args.json,
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from physai.fields import config_from_arguments
    from physai.rl.config import TrainConfig, set_field
    from physai.rl.train import train

    config = config_from_arguments(TrainConfig, args, args.config_fields, overrides=_overrides(args.set))
    for item in args.hp:
        key, _, value = item.partition("=")
        set_field(config, f"{args.algo}.{key}", value)
    result = train(config, progress=not args.no_progress)
    print(
        f"trained {result.steps:,} steps in {result.wall_s:.0f} s ({result.steps_per_s:,.0f} steps/s on {result.device}); "
        f"policy: {result.policy_path} (onnx vs torch max |diff| {result.export.max_abs_diff:.1e})"
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from physai.rl.export import export_policy
    from physai.rl.train import TrainConfig, make_vec_env

    checkpoint = Path(args.checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    run_dir = next((p for p in checkpoint.resolve().parents if (p / "config.yaml").is_file()), None)
    if run_dir is None:
        raise FileNotFoundError(f"no config.yaml in the folders above {checkpoint}; export needs the run's config")
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())["train"]
    config = TrainConfig(
        task=saved["task"],
        robot=saved["robot"],
        n_envs=1,
        task_config=saved.get("task_config") or "",
        overrides=saved.get("overrides") or {},
    )
    contract = make_vec_env(config).contract
    out = Path(args.out) if args.out else checkpoint.with_suffix(".onnx")
    report = export_policy(checkpoint, contract, out)
    print(f"exported {out} ({report.file_size_bytes:,} bytes); onnx vs torch max |diff| {report.max_abs_diff:.1e}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from physai.rl.evaluate import evaluate

    report = evaluate(
        args.policy, args.task, episodes=args.episodes, seed=args.seed, robot=args.robot, video=args.video,
        overrides=_overrides(args.set) or None, commands=args.commands, plot=args.plot, target_from=args.target_from,
        task_config=args.task_config,
    )  # fmt: skip
    print(report.table())
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json())
    return 0


def _cmd_bench_train(args: argparse.Namespace) -> int:
    from physai.bench import train

    train.run(
        task=args.task, n_envs=args.n_envs, steps=args.steps, repeats=args.repeats, json_path=args.json,
        robot=args.robot,
    )  # fmt: skip
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from physai.fields import config_from_arguments
    from physai.rl.sweep import SweepConfig, parse_grid, parse_seeds, run_sweep
    from physai.values import parse_value

    config = config_from_arguments(
        SweepConfig,
        args,
        args.config_fields,
        seeds=parse_seeds(args.seeds),
        grid=parse_grid(args.grid),
        settings={f"{args.algo}.{k}": parse_value(v) for k, _, v in (h.partition("=") for h in args.hp)},
        overrides=_overrides(args.set),
    )
    result = run_sweep(config)
    print(f"best: {result.best['policy']} ({config.metric} {result.best[config.metric]}); table: {result.csv_path}")
    return 0


def _cmd_sim2sim(args: argparse.Namespace) -> int:
    from physai.bringup import sim2sim

    report = sim2sim.run(
        args.policy, args.task, episodes=args.episodes, seed=args.seed, overrides=_overrides(args.set),
        commands=args.commands, task_config=args.task_config,
    )  # fmt: skip
    print(report.table())
    if args.json:
        import dataclasses

        with open(args.json, "w") as f:
            json.dump(dataclasses.asdict(report), f, indent=2)
    return 0


def _launch_arguments_table(spec: dict) -> str:
    """Launch arguments as `name:=default  help` lines (the help wrapped under the name)."""
    import textwrap

    lines = ["launch arguments (NAME:=VALUE; defaults shown):"]
    for key, (default, text) in spec.items():
        lines.append(f"  {key}:={default!r}")
        lines.extend(textwrap.wrap(text, width=100, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


def _cmd_launch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from physai.bringup.launcher import launch

    given = {}
    for item in args.arguments:
        key, sep, value = item.partition(":=")
        if not sep:
            raise ValueError(f"launch argument {item!r}: expected NAME:=VALUE, e.g. robot:=testbed_biped")
        if key in given:
            raise ValueError(f"argument {key}:= given twice ({given[key]} and {value}); expected it once")
        given[key] = value
    duration = _seconds("argument duration:=", given.pop("duration")) if "duration" in given else None
    video = given.pop("video", None)
    if video and not given.get("record"):
        given["record"] = str(Path(video).with_suffix("")) + "_bag"
    if given.get("record"):
        from physai.values import bag_directory

        bag = bag_directory(given["record"])
        if bag != given["record"]:  # record:=run.mcap: the bag directory run, holding run/run_0.mcap
            print(f"physai launch: record:={given['record']} → bag directory {bag} ({Path(bag).name}_0.mcap inside)")
            given["record"] = bag
        if Path(bag).exists():
            raise ValueError(f"record:={bag} already exists; choose a new bag directory")
    result = launch(args.name, given, duration_s=duration, settle_s=2.0 if duration else 0.0)  # reports deaths
    if given.get("record"):
        if not Path(given["record"]).is_dir():  # the recorder never started (its log says why): no second error
            print(f"physai launch: no recording: {given['record']} was not written", file=sys.stderr)
            print(f"logs: {result.run_dir}")
            return result.exit_code or 1
        from physai.record.summary import summarize

        summary = summarize(given["record"])
        print(summary.table())
        print(f"recording: {given['record']}")
        if video:
            from physai.bringup.sets import resolve_arguments
            from physai.sim.replay import render_bag

            resolved = resolve_arguments(args.name, given)
            frames = render_bag(given["record"], resolved["robot"], video, scene=resolved["scene"])
            print(f"video: {video} ({frames} frames)")
    print(f"logs: {result.run_dir}")
    return result.exit_code


def _cmd_record(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.info:
        from physai.record import bag_info

        info = bag_info(args.bag)
        print(info.table())
        if info.missing:
            print(
                f"physai record: {args.bag} lost {info.missing:,} of its {info.recorded_count:,} messages",
                file=sys.stderr,
            )
            return 1
        return 0
    if args.summary:
        from physai.record.summary import summarize

        print(summarize(args.bag).table())
        return 0
    if args.video:
        return _record_video(args.bag, args.video, args.overlay)
    bag = Path(args.bag)
    if bag.exists() and (not bag.is_dir() or any(bag.iterdir())):
        raise FileExistsError(f"bag directory {bag} already exists; choose a new one (recording never overwrites)")
    if not bag.resolve().parent.is_dir():
        raise FileNotFoundError(f"bag directory {bag}: its folder {bag.resolve().parent} does not exist")
    from physai.bringup.launcher import launch_single

    return launch_single("recorder_node", "physai.ros.recorder_node", {"bag": args.bag}, duration_s=args.duration)


def _record_video(bag: str, video: str, overlay: bool) -> int:
    """MP4 of a recorded bag: its camera images when it has some, else the run replayed from /odom + /joint_states."""
    from physai.record import bag_info
    from physai.ros.images import bag_camera_video

    topics = {t.name: t.message_count for t in bag_info(bag).topics}
    if any(name.startswith("/camera/image_raw") and count for name, count in topics.items()):
        frames = bag_camera_video(bag, video, overlay=overlay)
        print(f"video: {video} ({frames} camera frames{', detections drawn' if overlay else ''})")
        return 0
    from physai.record.summary import robot_of_bag
    from physai.sim.replay import render_bag

    robot = robot_of_bag(bag)
    frames = render_bag(bag, robot, video)
    print(f"video: {video} ({frames} frames of {robot} replayed from /odom and /joint_states)")
    return 0


def _cmd_bench_ros(args: argparse.Namespace) -> int:
    from physai.bench import ros

    ros.run(seconds=args.seconds, json_path=args.json)
    return 0


def _cmd_bench_vision(args: argparse.Namespace) -> int:
    from physai.bench import vision

    vision.run(frames=args.frames, seconds=args.seconds, json_path=args.json)
    return 0


def _cmd_bench_driver(args: argparse.Namespace) -> int:
    from physai.bench import driver

    counts = tuple(int(c) for c in args.motors.split(","))
    try:
        driver.run(seconds=args.seconds, rate_hz=args.rate_hz, motor_counts=counts, json_path=args.json)
    except driver.NamespaceError as err:
        print(f"physai: error: {err}", file=sys.stderr)
        return 2
    return 0


def _cmd_vision_calibrate(args: argparse.Namespace) -> int:
    import numpy as np

    from physai.robot import RobotSpec
    from physai.sim.calibration_board import BOARD_INNER, SQUARE_M, render_board_views
    from physai.sim.cameras import camera_id
    from physai.sim.mjcf import build_model
    from physai.vision import Intrinsics
    from physai.vision.calibration import calibrate, intrinsics_errors

    spec = RobotSpec.load(args.robot)
    if args.k:
        try:
            values = [float(v) for v in args.k.split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise ValueError(f"--k {args.k!r}: expected four numbers FX,FY,CX,CY (pixels)")
        fx, fy, cx, cy = values
        published = Intrinsics(args.width, args.height, fx, fy, cx, cy)
    else:
        model = build_model(spec)
        fovy = float(model.cam_fovy[camera_id(model, args.camera)])
        published = Intrinsics.from_fovy(args.width, args.height, fovy)  # what sim_node's camera_info says
    images = render_board_views(spec, args.camera, args.width, args.height, args.views, seed=args.seed)
    result = calibrate(images, BOARD_INNER, SQUARE_M)
    errors = intrinsics_errors(result.intrinsics, published)
    rows = [
        [n, f"{getattr(published, n):.2f}", f"{getattr(result.intrinsics, n):.2f}", f"{100 * e:.2f} %"]
        for n, e in errors.items()
    ]
    print(
        f"{args.camera} of {spec.name}, {args.width}×{args.height}: board found in {result.views} of {args.views} views"
    )
    _print_table(["", "published", "recovered", "difference"], rows)
    print(f"distortion {np.round(result.distortion, 4).tolist()}, RMS reprojection {result.rms_px:.3f} px")
    bad = [f"{n} differs by {100 * e:.1f} %" for n, e in errors.items() if e > args.tolerance]
    if result.rms_px >= 0.5:
        bad.append(f"RMS reprojection {result.rms_px:.2f} px ≥ 0.5 px")
    if bad:
        print(f"camera_info does not match the images: {'; '.join(bad)} (tolerance {100 * args.tolerance:g} %)")
        return 1
    print(f"camera_info matches the images (within {100 * args.tolerance:g} %)")
    return 0


def _count(raw: str) -> int:
    """Argparse type: a whole number ≥ 1 (episodes, frames, worlds, steps)."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw}; expected a whole number ≥ 1")
    return value


def _positive(raw: str) -> float:
    """Argparse type: a finite number > 0 (seconds, rates, tolerances)."""
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"{raw}; expected a number > 0")
    return value


def _task(raw: str) -> str:
    """Argparse type: a registered env id (physai/Balance-v0, physai/Reach-v0, physai/Walk-v0)."""
    from physai.envs import ENV_IDS

    if raw not in ENV_IDS:
        raise argparse.ArgumentTypeError(f"{raw}; expected one of {', '.join(ENV_IDS)}")
    return raw


def _output(raw: str) -> str:
    """Argparse type: a file to write, whose folder must exist (nothing creates folders a typo named)."""
    from pathlib import Path

    parent = Path(raw).expanduser().resolve().parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"{raw}: the folder {parent} does not exist; expected a file in an existing folder"
        )
    return raw


def _seconds(name: str, raw: str) -> float:
    """`raw` as a number of seconds > 0 (the `_positive` rule); ValueError naming `name` (what the user typed)."""
    try:
        return _positive(raw)
    except argparse.ArgumentTypeError:
        raise ValueError(f"{name}{raw}; expected seconds > 0") from None


def _overrides(items: Sequence[str]) -> dict:
    """Nested dict from `a.b=value` items; values parsed as YAML (numbers, lists, booleans)."""
    from physai.values import parse_value

    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. push.enabled=false")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = parse_value(raw)
    return out


def _print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for k, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `physai` and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="physai",
        description="physai: humanoid robots from MuJoCo training to ROS 2 nodes and CAN actuators.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("robots", help="list the robots under robot_descriptions/")
    p.set_defaults(handler=_cmd_robots)

    robot = sub.add_parser("robot", help="inspect one robot").add_subparsers(dest="action", required=True)
    p = robot.add_parser(
        "show",
        help="print a robot's spec: frames, joints, limits, default pose and gains",
        description="Load ROBOT's robot.yaml, cross-check it against its MJCF, and print its base, IMU, feet, "
        "camera and a joint table (limits in rad or m, velocity rad/s, effort N·m, default kp/kd).",
    )
    p.add_argument("name", help="registry name (see `physai robots`) or path to a robot.yaml")
    p.set_defaults(handler=_cmd_robot_show)
    p = robot.add_parser(
        "kinematics",
        help="write the robot's end-effector chain (kinematics.yaml) for MuJoCo-free forward kinematics",
        description="Read the chain base body → end_effector_site from the compiled MJCF and write it beside "
        "robot.yaml. policy_node computes the ee_pos observation from it and the measured joints, without MuJoCo.",
    )
    p.add_argument("name", help="registry name (see `physai robots`) or path to a robot.yaml")
    p.set_defaults(handler=_cmd_robot_kinematics)

    p = sub.add_parser(
        "sim",
        help="simulate a robot headless holding its default pose (optionally write an MP4)",
        description="Simulate ROBOT in MuJoCo holding its default pose with its default PD gains "
        "(τ = kp(q*−q) + kd(dq*−dq), clamped to the effort limit, at the 500 Hz physics rate). "
        "Prints final base height, max tilt and whether it fell.",
    )
    p.add_argument("--robot", default="unitree_g1", help="robot name or robot.yaml path (default: %(default)s)")
    p.add_argument("--scene", default="flat", help="scene in sim_envs/scenes (flat, rough) or MJCF path")
    p.add_argument("--seconds", type=_positive, default=5.0, help="simulated seconds (default: %(default)s)")
    p.add_argument("--video", type=_output, help="write an MP4 here (offscreen rendering, MUJOCO_GL=egl or osmesa)")
    p.add_argument("--fps", type=_count, default=30, help="video frame rate (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="reset seed (default: %(default)s)")
    p.add_argument("--noise", type=float, default=0.0, help="uniform joint noise at reset, rad (default: 0)")
    p.add_argument("--json", type=_output, help="also write the summary as JSON here")
    p.set_defaults(handler=_cmd_sim)

    bench = sub.add_parser("bench", help="benchmarks (figures and ratios against a same-run baseline)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    p = bench_sub.add_parser(
        "sim",
        help="Simulator and BatchSim steps/s against a bare mj_step loop",
        description="Measures raw mj_step, Simulator and BatchSim throughput on the same model in one run "
        "(medians over repeats) and reports simulator_vs_raw_mj_step and batch_vs_2x_single.",
    )
    p.add_argument("--robot", default="unitree_g1", help="robot (default: %(default)s)")
    p.add_argument("--steps", type=_count, default=4000, help="physics steps per timed repeat (default: %(default)s)")
    p.add_argument(
        "--decimation", type=_count, default=10, help="physics steps per control tick (default: %(default)s)"
    )
    p.add_argument("--nsim", type=_count, default=8, help="BatchSim worlds (default: %(default)s)")
    p.add_argument("--threads", type=_count, default=2, help="BatchSim threads (default: %(default)s)")
    p.add_argument("--repeats", type=_count, default=5, help="timed repeats per figure (default: %(default)s)")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.set_defaults(handler=_cmd_bench_sim)

    p = bench_sub.add_parser(
        "train",
        help="PPO env-steps/s: physai training, stock SB3, rollout only and the physics limit, same run",
        description="Runs PPO.learn on the same task with physai's BatchVecEnv (one BatchSim, MuJoCo threads) "
        "and with stock SB3 DummyVecEnv over the Gymnasium env, steps the BatchVecEnv with zero actions "
        "(rollout only), alternating repeats, and measures the physics limit (threads × raw mj_step/s ÷ "
        "decimation). Reports env-steps/s of each and the ratios batched_vs_dummy, training_vs_rollout and "
        "rollout_vs_physics; also onnxruntime vs torch single-sample inference latency (median/p99 µs) of the "
        "shipped policies.",
    )
    p.add_argument("--task", type=_task, default="physai/Balance-v0", help="env id (default: %(default)s)")
    p.add_argument("--robot", help="robot (default: the task's)")
    p.add_argument("--n-envs", type=_count, default=16, help="worlds / envs (default: %(default)s)")
    p.add_argument("--steps", type=_count, default=8192, help="env steps per timed PPO.learn (default: %(default)s)")
    p.add_argument("--repeats", type=_count, default=3, help="timed repeats per variant (default: %(default)s)")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.set_defaults(handler=_cmd_bench_train)

    p = bench_sub.add_parser(
        "vision",
        help="per-frame render and ArUco detection time (320x240, 640x480), and image → /target_pose through ROS",
        description="Renders the marker cube from testbed_arm's scene_cam at random placements, times rendering, "
        "RGB→gray (the baseline) and physai.vision.detect_markers per frame (p50/p99 ms), then runs sim_node + "
        "perception_node and reports perception_node's image → /target_pose latency and image age.",
    )
    p.add_argument("--frames", type=_count, default=100, help="frames per resolution (default: %(default)s)")
    p.add_argument("--seconds", type=_positive, default=6.0, help="sim seconds of the ROS run (default: %(default)s)")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.set_defaults(handler=_cmd_bench_vision)

    p = sub.add_parser(
        "sim2sim",
        help="the same policy, seeds and pushes in the Gymnasium env and through the ROS 2 loop (lockstep)",
        description="Runs each episode in the env (noise-free: no randomization, sensor or reset noise) and then "
        "through sim_node + policy_node in lockstep with the env's pushes replayed, recomputes the rewards from the "
        "recording and prints every metric side by side with its difference.",
    )
    p.add_argument("policy", help="policy .onnx")
    p.add_argument("--task", type=_task, default="physai/Balance-v0")
    p.add_argument("--episodes", type=_count, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="task YAML override")
    p.add_argument("--task-config", help="task YAML the policy was trained with (e.g. walk_g1; default: the task's)")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.add_argument(
        "--commands", metavar="FILE", help="Walk: command timeline (default: sim_envs/commands/walk_path.yaml)"
    )
    p.set_defaults(handler=_cmd_sim2sim)

    p = bench_sub.add_parser(
        "ros",
        help="ROS 2 loop: state→command latency, 500 Hz loop lateness (with/without RT), lockstep throughput",
        description="Runs the sim bringup with the shipped balance policy (lockstep, then realtime without and with "
        "SCHED_FIFO), and sim_node in lockstep against an instant responder; compares with raw mj_step.",
    )
    p.add_argument("--seconds", type=_positive, default=20.0, help="wall seconds per realtime measurement")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.set_defaults(handler=_cmd_bench_ros)

    p = bench_sub.add_parser(
        "driver",
        help="CAN driver loop at 1 kHz against the virtual motor bank: tick time and lateness, 12 and 29 motors",
        description="Runs the virtual motor bank (MuJoCo plant) and the driver loop (CanActuatorBus + RateLoop, "
        "holding the default pose) as two processes on virtual datagram CAN buses inside a private network namespace "
        "(needs root), for testbed_biped (12 motors) and unitree_g1 (29 motors), each without and with SCHED_FIFO. "
        "Reports driver tick time (read_state + write_command), loop lateness p50/p99/max and misses.",
    )
    p.add_argument(
        "--seconds", type=_positive, default=60.0, help="wall seconds per configuration (default: %(default)s)"
    )
    p.add_argument("--rate-hz", type=_positive, default=1000.0, help="driver loop rate (default: %(default)s)")
    p.add_argument("--motors", default="12,29", help="motor counts to run: 12, 29 or 12,29 (default: %(default)s)")
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.set_defaults(handler=_cmd_bench_driver)

    p = sub.add_parser(
        "train",
        help="train a policy headless (PPO/SAC on the batched VecEnv) and export policy.onnx",
        description="Train TASK on N worlds stepped together in MuJoCo's threaded batch. The run folder gets "
        "config.yaml (resolved), tb/ (TensorBoard, reward terms included), checkpoints/, model.zip and "
        "policy.onnx with the observation/action contract embedded and checked against torch.",
    )
    from physai.rl.config import TrainConfig

    p.set_defaults(config_fields=add_config_arguments(p, TrainConfig, positional=("task",)))
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="task YAML override, e.g. push.enabled=false"
    )
    p.add_argument(
        "--hp", action="append", default=[], metavar="KEY=VALUE", help="algorithm hyperparameter, e.g. n_steps=32"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_train)

    p = sub.add_parser(
        "sweep",
        help="Ray Tune sweep: seeds × grid of training runs, each evaluated, ranked by a metric",
        description="Each trial is a `physai train` run (own folder under runs/sweep_NAME) followed by `physai eval`. "
        "Without --ray-address a local Ray is started on this machine's CPUs, bound to loopback, no dashboard; "
        "with one (or 'auto'), trials go to that cluster, GPUs included when it has them.",
    )
    from physai.rl.sweep import SweepConfig

    fields = add_config_arguments(p, SweepConfig, positional=("task",))
    p.set_defaults(config_fields=fields)
    p.add_argument("--seeds", default="0", help="training seeds, e.g. 0-3 or 0,2,5 (default: %(default)s)")
    p.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2", help="grid axis, e.g. ppo.learning_rate=3e-4,1e-3"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="task YAML override for every trial (as in train)",
    )
    p.add_argument(
        "--hp", action="append", default=[], metavar="KEY=VALUE", help="fixed hyperparameter for every trial"
    )
    p.set_defaults(handler=_cmd_sweep)

    from physai.bringup.sets import LAUNCH_ARGUMENTS

    vision = sub.add_parser("vision", help="camera tools").add_subparsers(dest="vision", required=True)
    p = vision.add_parser(
        "calibrate",
        help="calibrate a robot's camera from rendered checkerboard views and check its camera_info",
        description="Renders a 7×5-corner checkerboard (0.03 m squares) at random poses in front of CAMERA, runs "
        "OpenCV findChessboardCorners + calibrateCamera, and prints the recovered fx, fy, cx, cy, distortion and RMS "
        "reprojection error against the published intrinsics (the ones sim_node's camera_info carries, or --k). "
        "Exit code 1 when they differ by more than --tolerance or the RMS is 0.5 px or more: a wrong camera_info.",
    )
    p.add_argument("--robot", default="testbed_arm", help="robot name or robot.yaml (default: %(default)s)")
    p.add_argument("--camera", default="scene_cam", help="MJCF camera (default: %(default)s)")
    p.add_argument("--width", type=_count, default=640, help="image width, pixels (default: %(default)s)")
    p.add_argument("--height", type=_count, default=480, help="image height, pixels (default: %(default)s)")
    p.add_argument("--views", type=_count, default=25, help="board poses rendered (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the board poses (default: %(default)s)")
    p.add_argument("--k", metavar="FX,FY,CX,CY", help="intrinsics to check instead of the published ones (pixels)")
    p.add_argument("--tolerance", type=_positive, default=0.01, help="relative tolerance (default: %(default)s = 1 %%)")
    p.set_defaults(handler=_cmd_vision_calibrate)

    launch = sub.add_parser(
        "launch",
        help="start a bringup's ROS 2 nodes (same nodes and params as `ros2 launch physai NAME.launch.py`)",
        description="Start the nodes of bringup NAME as processes with one params YAML, DDS confined to localhost "
        "(UDP on 127.0.0.1, config/fastdds_loopback.xml, unless ROS_AUTOMATIC_DISCOVERY_RANGE or "
        "FASTRTPS_DEFAULT_PROFILES_FILE is set otherwise). `physai launch NAME --help` lists its arguments.",
    )
    sets = launch.add_subparsers(dest="name", required=True, metavar="NAME")
    for name, spec in LAUNCH_ARGUMENTS.items():
        p = sets.add_parser(
            name,
            help=f"the {name} node set",
            description=f"Start the {name} node set. Extra arguments: duration:=S (stop after S seconds), "
            "video:=FILE.mp4 (render the recorded run afterwards). Prints a summary when recording.",
            epilog=_launch_arguments_table(spec),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("arguments", nargs="*", metavar="NAME:=VALUE", help="launch arguments (below)")
        p.set_defaults(handler=_cmd_launch)

    p = sub.add_parser(
        "record",
        help="record every physai topic into a rosbag2 MCAP bag (or --info / --summary / --video of a bag)",
        description="Record every physai topic into BAG (a new rosbag2 MCAP directory) until Ctrl-C, SIGTERM or "
        "--duration; the bag is finalized on each. With --info, --summary or --video, read an existing BAG instead.",
    )
    p.add_argument("bag", help="bag directory to create (or to read with --info, --summary, --video)")
    p.add_argument("--duration", type=_positive, help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument(
        "--info", action="store_true", help="print topics, counts and duration of an existing bag (like ros2 bag info)"
    )
    p.add_argument(
        "--summary", action="store_true", help="print the run summary of an existing bag (as after a launch)"
    )
    p.add_argument(
        "--video",
        type=_output,
        metavar="MP4",
        help="write an MP4 of an existing bag: its camera images (raw or compressed), or else the run replayed in "
        "MuJoCo from /odom and /joint_states (the robot found by its joint names)",
    )
    p.add_argument("--overlay", action="store_true", help="with --video: draw the ArUco detections on the frames")
    p.set_defaults(handler=_cmd_record)

    p = sub.add_parser("export", help="export a training checkpoint to ONNX with its contract")
    p.add_argument("checkpoint", help="a model.zip or checkpoints/ckpt_N_steps.zip inside a run folder")
    p.add_argument("--out", type=_output, help="output .onnx (default: next to the checkpoint)")
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser(
        "eval",
        help="evaluate a policy.onnx in its task with onnxruntime (table, JSON, optional MP4)",
        description="Loads the contract from POLICY, checks it against the env, runs deterministic episodes "
        "seeded seed, seed+1, … and reports mean return, episode length, fall rate and task metrics. Walk-v0 adds "
        "linear and yaw-rate tracking error (stride-average velocity, 1 s after each command change left out), "
        "drift while commanded to stand, foot slip and step frequency.",
    )
    p.add_argument("policy", help="policy .onnx with an embedded physai contract")
    p.add_argument("--task", type=_task, required=True, help="env id")
    p.add_argument("--robot", help="robot (default: the contract's)")
    p.add_argument("--episodes", type=_count, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--video", type=_output, help="record episode 0 to this MP4 (tracking camera on floating-base robots)"
    )
    p.add_argument("--json", type=_output, help="write the report here as JSON")
    p.add_argument(
        "--commands",
        metavar="FILE",
        help="Walk: YAML timeline [{t, vx, vy, yaw_rate}, ...] replacing the random commands",
    )
    p.add_argument(
        "--plot",
        type=_output,
        metavar="PNG",
        help="Walk: commanded vs measured velocity and gait diagram of episode 0",
    )
    p.add_argument(
        "--target-from",
        choices=("truth", "vision"),
        default="truth",
        help="Reach: the policy's target from the simulator, or from scene_cam through physai.vision (the marker "
        "cube put on the target)",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="task YAML override")
    p.add_argument("--task-config", help="task YAML the policy was trained with (e.g. walk_g1; default: the task's)")
    p.set_defaults(handler=_cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `physai` console script."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (ValueError, FileNotFoundError, FileExistsError) as err:  # bad input: one clear line, no traceback
        print(f"physai: error: {_as_typed(err, args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `physai ... | head`: the reader has gone, nothing more to say
        sys.stderr.close()
        return 0


def _as_typed(err: Exception, args: argparse.Namespace) -> str:
    """The error in the words the user typed: a config field becomes its option (`n_envs` → `--n-envs 0`)."""
    from physai.errors import FieldError

    if not isinstance(err, FieldError) or err.source:
        return str(err)
    algo = getattr(args, "algo", None)
    if err.field in getattr(args, "config_fields", ()):
        return f"--{err.field.replace('_', '-')} {err.value}; expected {err.expected}"
    if algo and err.field.startswith(f"{algo}."):
        return f"--hp {err.field.removeprefix(algo + '.')}={err.value}; expected {err.expected}"
    return str(err)


if __name__ == "__main__":
    sys.exit(main())
