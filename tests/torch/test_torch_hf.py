"""A Hugging Face transformers model (small config, random weights, no download) trains with ZOSGD spsa."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402
from zoo.torch.hf import tiny_gpt2  # noqa: E402
from zoo.torch.suite import tokens  # noqa: E402

torch.set_num_threads(1)


def test_gpt2_from_a_config_fine_tunes_with_spsa_forward_only():
    data = tokens(0, n=200)
    model = tiny_gpt2(seed=0, width=32)
    x, y = data.x_train[:64], data.y_train[:64]
    opt = zt.ZOSGD(model.parameters(), lr=2e-3, estimator="spsa", seed=0)
    loss = lambda: F.cross_entropy(model(x), y)  # noqa: E731
    with torch.no_grad():
        first = float(loss())
    for _ in range(40):
        opt.step(loss)
    with torch.no_grad():
        last = float(loss())
    assert last < first - 0.02
    assert opt.queries == 80
    assert all(p.grad is None for p in model.parameters())  # no autograd anywhere
