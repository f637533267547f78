"""Batched evaluation, folding into the batch dimension, the one-line training loop, and `zoo train`."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402
from zoo.torch.digits import load_digits, small_cnn  # noqa: E402

torch.set_num_threads(1)


def _odd_cnn():
    """Strided, unpadded and padded convolutions, tanh, average pooling, a flatten into a linear layer."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 3, 3, stride=2, padding=1),
        nn.Tanh(),
        nn.Conv2d(3, 4, 2),
        nn.ReLU(),
        nn.AvgPool2d(1),
        nn.Conv2d(4, 2, 3, padding=1),
        nn.Flatten(),
        nn.Linear(18, 5),
    ).double()


@pytest.mark.parametrize("make", [lambda: small_cnn(dtype=torch.float64), _odd_cnn])
def test_folded_cge_equals_plain_loop(make):
    data = load_digits(dtype=torch.float64)
    x, y = data.x_train[:16], data.y_train[:16] % 5
    grads = []
    for flags in ({"feature_reuse": True}, {"feature_reuse": True, "fold": False}, {"batched": False}):
        model = make()
        closure = zt.ForwardLoss(model, F.cross_entropy, x, y, **flags)
        f0 = float(closure.base_loss())
        parts = []
        for p in model.parameters():
            idx = torch.arange(0, p.numel(), 7 if p.numel() > 100 else 1)  # a spread subset: fast
            parts.append((closure.coordinate_losses(p, idx, 1e-4) - f0) / 1e-4)
        grads.append(torch.cat(parts))
    assert torch.allclose(grads[0], grads[2], rtol=1e-6, atol=1e-8)
    assert torch.allclose(grads[1], grads[2], rtol=1e-6, atol=1e-8)


def test_direction_losses_match_perturbed_forwards_and_chunking():
    model = small_cnn(dtype=torch.float64)
    data = load_digits(dtype=torch.float64)
    x, y = data.x_train[:8], data.y_train[:8]
    params = list(model.parameters())
    g = torch.Generator().manual_seed(0)
    deltas = [1e-2 * torch.randn(5, *p.shape, generator=g, dtype=torch.float64) for p in params]
    out = zt.ForwardLoss(model, F.cross_entropy, x, y, chunk_size=2).direction_losses(params, deltas)
    ref = []
    for k in range(5):
        moved = {n: p + d[k] for (n, p), d in zip(model.named_parameters(), deltas)}
        ref.append(F.cross_entropy(torch.func.functional_call(model, moved, (x,)), y))
    assert torch.allclose(out, torch.stack(ref).detach())


def test_bad_memory_options_raise():
    model = small_cnn()
    x, y = torch.zeros(2, 64), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="memory_limit"):
        zt.ForwardLoss(model, F.cross_entropy, x, y, memory_limit=0)
    with pytest.raises(ValueError, match="chunk_size"):
        zt.ForwardLoss(model, F.cross_entropy, x, y, chunk_size=0)


def test_one_line_change_training_loop():
    """The docs' loop: the same closure drives torch.optim.Adam (backprop) and zoo.torch.ZOAdam."""
    data = load_digits()
    x, y = data.x_train[:128], data.y_train[:128]
    for make in (
        lambda m: torch.optim.Adam(m.parameters(), lr=1e-2),
        lambda m: zt.ZOAdam(m.parameters(), lr=1e-2, estimator="spsa", n_directions=4),
    ):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
        opt = make(model)
        first = None
        for _ in range(30):

            def closure(opt=opt, model=model):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                if torch.is_grad_enabled():
                    loss.backward()
                return loss

            loss = float(opt.step(closure))
            first = loss if first is None else first
        assert loss < 0.9 * first


def test_grasp_with_plain_closure_keeps_parameters():
    data = load_digits()
    model = small_cnn()
    x, y = data.x_train[:32], data.y_train[:32]
    snap = [p.detach().clone() for p in model.parameters()]
    ratios, queries = zt.zo_grasp_sparsity(
        lambda: F.cross_entropy(model(x), y), list(model.parameters()), 0.8, n_directions=4
    )
    assert queries == 10 and len(ratios) == len(snap)
    assert all(torch.equal(p, s) for p, s in zip(model.parameters(), snap))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        zt.zo_grasp_sparsity(lambda: F.cross_entropy(model(x), y), list(model.parameters()), 1.0)


def test_zoo_train_cli_writes_a_curve(tmp_path, capsys):
    from zoo.cli import main

    png = tmp_path / "curve.png"
    assert (
        main(
            [
                "train",
                "digits",
                "--model",
                "mlp",
                "--estimator",
                "cge",
                "--epochs",
                "1",
                "--quiet",
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "test accuracy" in out and png.exists() and png.stat().st_size > 1000


def test_zoo_parser_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, zoo.cli; zoo.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
