"""Running a policy file on the robot side (onnxruntime only: no torch, no MuJoCo, no ROS).

- `OnnxPolicy`: a policy.onnx loaded with its validated contract (inference.py);
- `PolicyRunner`: measured joints + IMU → observation → action → joint targets, step by step (runner.py).

policy_node runs it; evaluation (physai.rl) and sim2sim use the same code.
"""

from physai.policy.inference import OnnxPolicy
from physai.policy.runner import PolicyRunner

__all__ = ["OnnxPolicy", "PolicyRunner"]
