"""Every shipped policies/<name>/model.zip re-exports, from the config.yaml beside it, to its shipped policy.onnx
(same contract, same actions): the checkpoint can be fine-tuned or re-exported."""

from __future__ import annotations

import numpy as np
import pytest

from physai.cli import main
from physai.contract import read_from_onnx
from physai.paths import data_root
from physai.policy.inference import OnnxPolicy

POLICIES = sorted(p.parent.name for p in (data_root() / "policies").glob("*/model.zip"))


@pytest.mark.parametrize("name", POLICIES)
def test_shipped_checkpoint_re_exports_to_the_shipped_policy(name, tmp_path):
    folder = data_root() / "policies" / name
    assert (folder / "config.yaml").is_file()
    out = tmp_path / "policy.onnx"
    assert main(["export", str(folder / "model.zip"), "--out", str(out)]) == 0
    assert read_from_onnx(out) == read_from_onnx(folder / "policy.onnx")
    ours, shipped = OnnxPolicy(out), OnnxPolicy(folder / "policy.onnx")
    obs = np.random.default_rng(0).normal(size=(8, ours.contract.obs_dim)).astype(np.float32)
    assert max(float(np.abs(ours(o) - shipped(o)).max()) for o in obs) < 1e-5
