"""physai.rl.export / inference: SB3 → ONNX with the contract, equal actions, refusals, no torch at runtime."""

import dataclasses
import importlib.util
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import onnx
import pytest
import torch
from stable_baselines3 import PPO, SAC

import physai.envs  # noqa: F401 (registers the env ids)
from physai.contract import ContractError, ContractMismatch, NoContractError, read_from_onnx
from physai.rl import ExportError, ObsNormalization, OnnxPolicy, detect_algo, export_policy

export_module = sys.modules["physai.rl.export"]
SMALL = {"net_arch": [32, 32]}  # copied per model: SB3 stores (and SAC mutates) the dict it is given


def real_observations(env: gym.Env, steps: int = 64, seed: int = 0) -> np.ndarray:
    """Observations of a random-action rollout (resetting on episode end)."""
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(steps - 1):
        obs, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return np.asarray(out[:steps], dtype=np.float32)


@pytest.fixture(scope="module")
def balance():
    env = gym.make("physai/Balance-v0")
    model = PPO("MlpPolicy", env, policy_kwargs=dict(SMALL), n_steps=64, batch_size=64, device="cpu", seed=0)
    with torch.no_grad():  # untrained PPO means are ~0 (gain 0.01); make them O(1) so the comparison means something
        torch.nn.init.normal_(model.policy.action_net.weight, std=0.5)
        torch.nn.init.normal_(model.policy.action_net.bias, std=0.5)
    obs = real_observations(env)
    yield env, model, obs
    env.close()


@pytest.fixture(scope="module")
def balance_file(balance, tmp_path_factory):
    env, model, obs = balance
    path = tmp_path_factory.mktemp("ppo") / "policy.onnx"
    report = export_policy(model, env.unwrapped.contract, path, samples=obs)
    return path, report


def sb3_mean(model: PPO, obs: np.ndarray) -> np.ndarray:
    """PPO's Gaussian mean (the deterministic action before predict() clips it)."""
    with torch.no_grad():
        return model.policy.get_distribution(torch.as_tensor(obs)).distribution.mean.numpy()


def test_ppo_export_equals_sb3_on_real_observations(balance, balance_file):
    env, model, obs = balance
    path, report = balance_file
    contract = env.unwrapped.contract
    policy = OnnxPolicy(path)
    onnx_action = policy(obs)
    mean = sb3_mean(model, obs)
    assert onnx_action.dtype == np.float32 and onnx_action.shape == (len(obs), contract.action_dim)
    assert np.max(np.abs(onnx_action - mean)) <= 1e-5
    assert (np.abs(mean) > 1).any(), "test needs actions beyond the clip to show the graph does not clip"
    predicted, _ = model.policy.predict(obs, deterministic=True)  # SB3 clips to the [-1, 1] action space
    np.testing.assert_allclose(np.clip(onnx_action, -1, 1), predicted, atol=1e-5)
    np.testing.assert_allclose(policy(obs[3]), onnx_action[3], atol=1e-6)  # unbatched call
    assert report.max_abs_diff <= 1e-5 and report.atol == 1e-5
    assert report.check_samples == 256 + len(obs)
    assert (report.algo, report.exporter, report.obs_dim, report.action_dim) == (
        "ppo", "torchscript", contract.obs_dim, contract.action_dim,
    )  # fmt: skip
    assert report.file_size_bytes == path.stat().st_size > 0
    assert not list(path.parent.glob(".*.tmp"))


def test_contract_read_back_equals_env_contract(balance, balance_file):
    env, _, _ = balance
    path, _ = balance_file
    contract = env.unwrapped.contract
    assert read_from_onnx(path) == contract
    assert OnnxPolicy(path).contract.to_dict() == contract.to_dict()
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ["obs"] and [o.name for o in model.graph.output] == ["action"]
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.HasField("dim_value"), "batch axis must be dynamic"


def test_onnx_policy_runs_one_thread_on_cpu(balance_file):
    path, _ = balance_file
    policy = OnnxPolicy(path)
    options = policy.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert policy.session.get_providers() == ["CPUExecutionProvider"]
    assert policy(np.zeros((5, policy.obs_dim), np.float32)).shape == (5, policy.action_dim)


def test_wrong_observation_shape_is_refused(balance_file):
    path, _ = balance_file
    policy = OnnxPolicy(path)
    for bad in (np.zeros(policy.obs_dim + 1), np.zeros((2, policy.obs_dim - 1)), np.zeros((1, 1, policy.obs_dim))):
        with pytest.raises(ValueError, match=f"expected \\({policy.obs_dim},\\)"):
            policy(bad)


def graph_with_contract_of(source, in_dim: int, out_dim: int, path):
    """A plain ONNX graph obs[in_dim] → action[out_dim] carrying the metadata of `source` (bypassing the checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is fine for a fixture file
        torch.onnx.export(
            torch.nn.Linear(in_dim, out_dim), (torch.zeros(1, in_dim),), str(path),
            input_names=["obs"], output_names=["action"], dynamo=False,
        )  # fmt: skip
    model = onnx.load(str(path))
    for prop in onnx.load(str(source)).metadata_props:
        model.metadata_props.add(key=prop.key, value=prop.value)
    onnx.save(model, str(path))
    return path


def test_graph_that_disagrees_with_its_contract_is_refused(balance, balance_file, tmp_path):
    env, _, _ = balance
    path, _ = balance_file
    contract = env.unwrapped.contract
    n_obs, n_act = contract.obs_dim, contract.action_dim
    with pytest.raises(ContractMismatch, match="action_dim is 12") as err:
        OnnxPolicy(graph_with_contract_of(path, n_obs, n_act - 1, tmp_path / "fewer_actions.onnx"))
    assert err.value.what == "action_dim"
    with pytest.raises(ContractMismatch, match="obs_dim is 45") as err:
        OnnxPolicy(graph_with_contract_of(path, n_obs + 2, n_act, tmp_path / "wrong_obs.onnx"))
    assert err.value.what == "obs_dim"


def test_tampered_metadata_is_refused(balance_file, tmp_path):
    path, _ = balance_file
    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == "physai.robot":
            prop.value = "unitree_g1"
    tampered = tmp_path / "tampered.onnx"
    onnx.save(model, str(tampered))
    with pytest.raises(ContractError, match="edited by hand"):
        OnnxPolicy(tampered)


def test_graph_that_disagrees_with_the_model_is_not_written(balance, tmp_path, monkeypatch):
    env, model, _ = balance
    real = export_module._actor_module

    def perturbed(*args, **kwargs):
        module = real(*args, **kwargs)
        with torch.no_grad():
            module.head.bias += 1e-3
        return module

    monkeypatch.setattr(export_module, "_actor_module", perturbed)
    out = tmp_path / "policy.onnx"
    with pytest.raises(ExportError, match="disagrees"):
        export_policy(model, env.unwrapped.contract, out)
    assert list(tmp_path.iterdir()) == []


def test_contract_with_wrong_obs_dim_is_refused(balance, tmp_path):
    _, model, _ = balance
    reach = gym.make("physai/Reach-v0")
    with pytest.raises(ExportError, match="obs_dim is 27"):
        export_policy(model, reach.unwrapped.contract, tmp_path / "policy.onnx")
    reach.close()
    assert list(tmp_path.iterdir()) == []


def test_file_without_contract_is_refused(tmp_path):
    plain = tmp_path / "plain.onnx"
    with pytest.warns(DeprecationWarning):  # the legacy exporter; fine for a test fixture file
        torch.onnx.export(torch.nn.Linear(45, 12), (torch.zeros(1, 45),), str(plain), dynamo=False)
    with pytest.raises(NoContractError, match="has no physai contract"):
        OnnxPolicy(plain)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        OnnxPolicy(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ContractError, match="not a readable ONNX policy"):
        OnnxPolicy(garbage)


def test_sac_export_on_reach(tmp_path):
    env = gym.make("physai/Reach-v0")
    model = SAC("MlpPolicy", env, policy_kwargs=dict(SMALL), buffer_size=64, device="cpu", seed=0)
    with torch.no_grad():
        torch.nn.init.normal_(model.actor.mu.weight, std=0.5)
    obs = real_observations(env, steps=32)
    report = export_policy(model, env.unwrapped.contract, tmp_path / "policy.onnx", samples=obs)
    policy = OnnxPolicy(tmp_path / "policy.onnx")
    predicted, _ = model.predict(obs, deterministic=True)  # tanh-squashed, no clipping involved
    assert np.max(np.abs(policy(obs) - predicted)) <= 1e-5
    assert np.abs(predicted).max() > 0.1
    assert report.algo == "sac" and report.max_abs_diff <= 1e-5
    assert policy.contract == env.unwrapped.contract

    model.save(tmp_path / "sac.zip")
    assert detect_algo(tmp_path / "sac.zip") == "sac"
    again = export_policy(tmp_path / "sac.zip", env.unwrapped.contract, tmp_path / "from_zip.onnx")
    np.testing.assert_allclose(OnnxPolicy(tmp_path / "from_zip.onnx")(obs), policy(obs), atol=1e-6)
    assert again.algo == "sac"
    env.close()


def test_ppo_checkpoint_with_vecnormalize_statistics(balance, tmp_path):
    env, model, obs = balance
    model.save(tmp_path / "ppo.zip")
    assert detect_algo(tmp_path / "ppo.zip") == "ppo"
    rng = np.random.default_rng(1)
    stats = {"mean": rng.normal(size=obs.shape[1]), "var": rng.uniform(0.1, 4.0, obs.shape[1]), "clip": 3.0}
    report = export_policy(tmp_path / "ppo.zip", env.unwrapped.contract, tmp_path / "p.onnx", obs_rms=stats)
    assert report.obs_normalization and report.max_abs_diff <= 1e-5
    norm = ObsNormalization.coerce(stats)
    expected = sb3_mean(model, norm.apply(obs).astype(np.float32))
    np.testing.assert_allclose(OnnxPolicy(tmp_path / "p.onnx")(obs), expected, atol=1e-5)
    with pytest.raises(ValueError, match="expected mean, var"):
        ObsNormalization.coerce({"mean": [0.0]})
    with pytest.raises(ExportError, match="obs_rms has 3 statistics"):
        export_policy(model, env.unwrapped.contract, tmp_path / "q.onnx", obs_rms={"mean": [0] * 3, "var": [1] * 3})


def test_bad_checkpoint_is_refused(balance, tmp_path):
    contract = balance[0].unwrapped.contract
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"nope")
    with pytest.raises(ExportError, match="not an SB3 checkpoint"):
        detect_algo(bad)
    with pytest.raises(FileNotFoundError):
        export_policy(tmp_path / "missing.zip", contract, tmp_path / "p.onnx")
    with pytest.raises(ExportError, match="not an SB3 checkpoint"):
        export_policy(bad, contract, tmp_path / "p.onnx")


@pytest.mark.skipif(importlib.util.find_spec("onnxscript") is not None, reason="onnxscript installed")
def test_dynamo_exporter_without_onnxscript_says_what_to_install(balance, tmp_path):
    env, model, _ = balance
    with pytest.raises(ExportError, match="onnxscript"):
        export_policy(model, env.unwrapped.contract, tmp_path / "p.onnx", exporter="dynamo")


@pytest.mark.skipif(importlib.util.find_spec("onnxscript") is None, reason="needs onnxscript")
def test_dynamo_exporter_matches(balance, tmp_path):
    env, model, obs = balance
    report = export_policy(model, env.unwrapped.contract, tmp_path / "p.onnx", exporter="dynamo", samples=obs)
    assert report.exporter == "dynamo" and report.max_abs_diff <= 1e-5


def test_runtime_modules_do_not_import_torch():
    code = (
        "import sys, physai.rl, physai.policy.inference, physai.rl.export; "
        "evaluate = sys.modules['physai.rl.evaluate']; "
        "bad = [m for m in ('torch', 'stable_baselines3') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_is_plain_data(balance_file):
    _, report = balance_file
    data = report.to_dict()
    assert data["path"].endswith("policy.onnx") and isinstance(data["max_abs_diff"], float)
    assert dataclasses.replace(report) == report
