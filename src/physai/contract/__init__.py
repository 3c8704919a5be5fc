"""The policy contract: observation terms, action mapping, gains and rates, carried inside the ONNX policy file.

    contract = PolicyContract.for_robot(spec)                     # joint order, default pose, gains from robot.yaml
    attach_to_onnx("policy.onnx", contract)                       # at export
    contract = read_from_onnx("policy.onnx"); contract.check(spec)  # before running it
    obs = build_observation(state, command, last_action, contract)
    q_target = action_to_targets(action, contract)

No MuJoCo, torch or rclpy here; onnx/onnxruntime are imported only by the ONNX helpers, on first use.
"""

from physai.contract.contract import (
    CONTRACT_VERSION,
    HISTORY_FILLS,
    LOCOMOTION_TERMS,
    METADATA_KEY,
    REACH_TERMS,
    ActionSpec,
    HeldJoint,
    ObservationTerm,
    PolicyContract,
)
from physai.contract.errors import ContractError, ContractMismatch, NoContractError
from physai.contract.observation import (
    ObservationBuilder,
    action_to_targets,
    assemble_observation,
    build_observation,
    clamp_command,
    clip_action,
    compute_terms,
)
from physai.contract.onnx_io import attach_to_onnx, check_onnx_io, read_from_onnx
from physai.contract.terms import OBSERVATION_TERMS, TermDef, gait_clock, gait_phase, projected_gravity

__all__ = [
    "CONTRACT_VERSION",
    "HISTORY_FILLS",
    "LOCOMOTION_TERMS",
    "METADATA_KEY",
    "OBSERVATION_TERMS",
    "REACH_TERMS",
    "ActionSpec",
    "ContractError",
    "ContractMismatch",
    "HeldJoint",
    "NoContractError",
    "ObservationBuilder",
    "ObservationTerm",
    "PolicyContract",
    "TermDef",
    "action_to_targets",
    "assemble_observation",
    "attach_to_onnx",
    "build_observation",
    "check_onnx_io",
    "clamp_command",
    "clip_action",
    "compute_terms",
    "gait_clock",
    "gait_phase",
    "projected_gravity",
    "read_from_onnx",
]
