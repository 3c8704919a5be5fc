"""Reinforcement learning: export SB3 policies to ONNX (with their contract), run and evaluate policy files.

    from physai.rl import OnnxPolicy, evaluate, export_policy
    report = export_policy(model, env.unwrapped.contract, "policies/balance/policy.onnx")
    print(evaluate("policies/balance/policy.onnx", "physai/Balance-v0", episodes=10, seed=0).table())

Importing this package is cheap and torch-free: `export_policy` imports torch and stable_baselines3 when
called, `OnnxPolicy` imports onnxruntime when constructed, `evaluate` imports gymnasium and the envs when
called. Note `physai.rl.evaluate` is the function; the module is `sys.modules["physai.rl.evaluate"]`.
"""

from physai.policy.inference import OnnxPolicy
from physai.rl.evaluate import EvalReport, check_same_contract, evaluate
from physai.rl.export import ExportError, ExportReport, ObsNormalization, detect_algo, export_policy

__all__ = [
    "EvalReport",
    "ExportError",
    "ExportReport",
    "ObsNormalization",
    "OnnxPolicy",
    "check_same_contract",
    "detect_algo",
    "evaluate",
    "export_policy",
]
