"""physai.rl.evaluate: exported (untrained) policies run in their envs; report fields, JSON, video, refusals."""

import dataclasses
import math
import subprocess
import sys

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from stable_baselines3 import PPO

import physai.envs  # noqa: F401 (registers the env ids)
from physai.contract import ActionSpec, ContractMismatch
from physai.rl import EvalReport, check_same_contract, evaluate, export_policy

evaluate_module = sys.modules["physai.rl.evaluate"]
SHORT = {"episode_length_s": 1.0}
SMALL_VIDEO = (320, 240)


def exported(task: str, directory) -> str:
    env = gym.make(task)
    model = PPO("MlpPolicy", env, policy_kwargs={"net_arch": [16]}, n_steps=64, batch_size=64, device="cpu", seed=0)
    path = directory / "policy.onnx"
    export_policy(model, env.unwrapped.contract, path, check_samples=16)
    env.close()
    return str(path)


@pytest.fixture(scope="module")
def balance_policy(tmp_path_factory):
    return exported("physai/Balance-v0", tmp_path_factory.mktemp("balance"))


@pytest.fixture(scope="module")
def reach_policy(tmp_path_factory):
    return exported("physai/Reach-v0", tmp_path_factory.mktemp("reach"))


def check_common(report: EvalReport, episodes: int) -> None:
    assert report.episodes == episodes == len(report.episode_returns) == len(report.episode_steps)
    assert 0.0 <= report.fall_rate <= 1.0
    assert 0.0 < report.mean_episode_seconds <= SHORT["episode_length_s"] + 1e-9
    assert math.isclose(report.mean_return, float(np.mean(report.episode_returns)))
    assert report.std_return >= 0.0 and all(math.isfinite(r) for r in report.episode_returns)
    assert EvalReport.from_json(report.to_json()) == report
    assert report.table().count("\n") >= 5


def check_video(report: EvalReport) -> None:
    assert report.video is not None and report.video_frames > 10
    reader = imageio.get_reader(report.video)
    frames = [frame for frame in reader]  # not list(reader): its len() is inf for MP4
    assert len(frames) == report.video_frames
    assert frames[0].shape == (SMALL_VIDEO[1], SMALL_VIDEO[0], 3) and frames[-1].std() > 10
    assert 25 <= reader.get_meta_data()["fps"] <= 30


def test_balance(balance_policy, tmp_path):
    video = tmp_path / "balance.mp4"
    report = evaluate(
        balance_policy, "physai/Balance-v0", episodes=2, seed=3, overrides=SHORT, video=video, video_size=SMALL_VIDEO
    )
    check_common(report, 2)
    assert report.robot == "testbed_biped" and report.seed == 3
    assert report.final_distance_m is None and report.success_rate is None and report.lin_vel_error_m_s is None
    check_video(report)
    again = evaluate(balance_policy, "physai/Balance-v0", episodes=2, seed=3, overrides=SHORT)
    assert again.episode_returns == report.episode_returns and again.video is None  # seeded: same episodes


def test_reach(reach_policy, tmp_path):
    report = evaluate(
        reach_policy, "physai/Reach-v0", episodes=2, seed=0, overrides=SHORT,
        video=tmp_path / "reach.mp4", video_size=SMALL_VIDEO,
    )  # fmt: skip
    check_common(report, 2)
    assert report.fall_rate == 0.0  # a fixed-base arm does not fall
    assert report.final_distance_m is not None and len(report.final_distance_m) == 2
    assert all(0.0 <= d < 2.0 for d in report.final_distance_m)
    assert report.success_rate == np.mean([d <= 0.02 for d in report.final_distance_m])
    assert report.success_tolerance_m == 0.02
    check_video(report)


def test_policy_for_another_layout_is_refused(balance_policy, tmp_path):
    from physai.rl import OnnxPolicy

    env = gym.make("physai/Balance-v0")
    contract = dataclasses.replace(env.unwrapped.contract, action=ActionSpec(scale=0.5, clip=1.0))
    with pytest.raises(ContractMismatch, match=r"action\.scale: policy has 0\.5, env has") as err:
        check_same_contract(contract, env.unwrapped.contract)
    assert err.value.what == "contract"
    terms = env.unwrapped.contract.observation
    rescaled = (*terms[:-1], dataclasses.replace(terms[-1], scale=3.0))
    other = dataclasses.replace(env.unwrapped.contract, observation=rescaled)
    with pytest.raises(ContractMismatch, match=rf"observation\[{len(terms) - 1}\] \(last_action\)\.scale"):
        check_same_contract(other, env.unwrapped.contract)
    with pytest.raises(ContractMismatch, match=r"observation: policy has \[base_ang_vel"):
        check_same_contract(dataclasses.replace(other, observation=terms[:-1]), env.unwrapped.contract)
    env.close()
    with pytest.raises(ContractMismatch, match="trained for robot 'testbed_biped'"):
        evaluate(balance_policy, "physai/Balance-v0", episodes=1, seed=0, robot="unitree_g1", overrides=SHORT)
    assert OnnxPolicy(balance_policy).contract.robot == "testbed_biped"
    with pytest.raises(ValueError, match="episodes"):
        evaluate(balance_policy, "physai/Balance-v0", episodes=0, seed=0)


def test_fall_comes_from_info_then_termination():
    fell = evaluate_module._fell
    assert fell({"fell": True}, False, True, floating_base=True)
    assert not fell({"fell": False}, True, False, floating_base=True)  # terminated for another reason
    assert fell({}, True, False, floating_base=True)
    assert not fell({}, False, True, floating_base=True)  # ran out of time standing
    assert not fell({}, True, False, floating_base=False)  # an arm's termination is success, not a fall


def test_env_without_a_simulator_skips_the_video(tmp_path):
    class Bare:
        unwrapped = object()

    env = gym.make("physai/Reach-v0")
    with pytest.warns(RuntimeWarning, match="video not recorded"):
        recorder, _, _ = evaluate_module._open_video(Bare(), tmp_path / "v.mp4", env.unwrapped.contract, SMALL_VIDEO)
    assert recorder is None and not (tmp_path / "v.mp4").exists()
    env.close()


def test_evaluate_runs_without_torch(balance_policy):
    code = (
        "import sys; from physai.rl import evaluate; "
        f"r = evaluate({balance_policy!r}, 'physai/Balance-v0', episodes=1, seed=0, overrides={SHORT!r}); "
        "assert r.episodes == 1; bad = [m for m in ('torch', 'stable_baselines3') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
