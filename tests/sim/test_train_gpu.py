"""Training on a CUDA GPU (`--device cuda`); skipped cleanly where torch sees no GPU (CI, this testbed)."""

import pytest
import torch

from physai.rl.train import TrainConfig, resolve_device, train

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")
def test_short_training_run_on_cuda(tmp_path):
    config = TrainConfig(task="physai/Reach-v0", steps=1024, n_envs=8, device="cuda", out=str(tmp_path / "run"))
    config.ppo.n_steps, config.ppo.batch_size = 64, 256
    result = train(config, progress=False)
    assert result.device == "cuda" and result.policy_path.is_file()
    assert result.export.max_abs_diff <= 1e-5


def test_cuda_request_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        assert resolve_device("cuda") == "cuda"
    else:
        with pytest.raises(ValueError, match="torch sees no CUDA GPU"):
            resolve_device("cuda")
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
