"""The group rule is built once per set of option values (zoo/torch/optim.py ``_cached_rule``): it must follow
every change of a group's options between steps, and a failed step must still leave no trace."""

import pytest
import torch
from torch import nn

import zoo.torch as zt
from zoo.torch.optim import _options_key, _snapshot


def _model():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    return net, lambda: ((net(x) - y) ** 2).mean()


def _flat(net):
    return torch.cat([p.detach().reshape(-1).clone() for p in net.parameters()])


def test_lr_change_between_steps_is_followed():
    net, loss = _model()
    opt = zt.ZOSGD(net.parameters(), lr=0.0, plateau=False)
    before = _flat(net)
    opt.step(loss)
    assert torch.equal(_flat(net), before)  # lr 0: restored exactly, nothing added
    opt.param_groups[0]["lr"] = 0.1
    opt.step(loss)
    assert not torch.equal(_flat(net), before)
    # the same two steps by an optimizer built with each lr fresh: the same numbers
    net2, loss2 = _model()
    ref = zt.ZOSGD(net2.parameters(), lr=0.0, plateau=False)
    ref.step(loss2)
    ref2 = zt.ZOSGD(net2.parameters(), lr=0.1, plateau=False)
    ref2.load_state_dict(ref.state_dict())
    ref2.param_groups[0]["lr"] = 0.1
    ref2.step(loss2)
    assert torch.equal(_flat(net), _flat(net2))


def test_scheduler_steps_change_the_rule():
    net, loss = _model()
    opt = zt.ZOSGD(net.parameters(), lr=0.1, plateau=False)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    rules = []
    for _ in range(3):
        opt.step(loss)
        rules.append(opt._rule(opt.param_groups[0]))
        sched.step()
    assert [r.lr for r in rules] == [0.1, 0.05, 0.025]
    assert opt._rule(opt.param_groups[0]) is opt._rule(opt.param_groups[0])  # unchanged options: reused


def test_bad_option_set_after_construction_raises_at_step_and_leaves_no_trace():
    net, loss = _model()
    opt = zt.ZOSGD(net.parameters(), lr=0.1, momentum=0.5)
    opt.step(loss)
    before, zo = _flat(net), opt.state_dict()["zo"]
    opt.param_groups[0]["momentum"] = 1.5
    with pytest.raises(ValueError, match="momentum"):
        opt.step(loss)
    assert torch.equal(_flat(net), before)
    assert opt.state_dict()["zo"] == zo
    opt.param_groups[0]["momentum"] = 0.5
    opt.step(loss)  # valid again: steps


def test_list_and_tensor_options_keys():
    g = {"params": [], "lr": 0.1, "betas": [0.9, 0.99]}
    k1 = _options_key(g, ("adam", 1.0))
    g["betas"][1] = 0.999  # a list changed in place: a new key
    assert k1 is not None and _options_key(g, ("adam", 1.0)) != k1
    # a tensor (changed in place by anyone, hashed by identity) is never cached
    assert _options_key({"params": [], "lr": torch.tensor(0.1)}, ("sgd", 1.0)) is None


def test_tensor_lr_in_place_change_is_followed():
    net, loss = _model()
    lr = torch.tensor(0.0)
    opt = zt.ZOSGD(net.parameters(), lr=lr, plateau=False)
    before = _flat(net)
    opt.step(loss)
    assert torch.equal(_flat(net), before)
    lr.fill_(0.1)
    opt.step(loss)
    assert not torch.equal(_flat(net), before)


def test_snapshot_copies_lists_and_deep_copies_the_rest():
    zo = {"step": 3, "skipped_steps": list(range(100)), "plateau": [1.0, 2.0], "other": {"a": [1]}}
    snap = _snapshot(zo)
    zo["skipped_steps"].append(100)
    zo["plateau"][0] = 0.5
    zo["other"]["a"].append(2)
    assert snap == {"step": 3, "skipped_steps": list(range(100)), "plateau": [1.0, 2.0], "other": {"a": [1]}}
