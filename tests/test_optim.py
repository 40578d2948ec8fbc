"""Contracts of `learner_course.optim` (lesson 01) beyond the lesson's inline tests.

Parity with PyTorch over a grid of configurations, resuming from a state_dict, PyTorch schedulers driving our
optimizers, clipping parity, and bad input leaving things unchanged. Tiny random models and data (unit tests).
"""
import copy, itertools, math
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from learner_course.optim import SGD, Adam, AdamW, clip_grad_norm, clip_grad_value, find_nonfinite

def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))

def _batches(n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 4, generator=g), torch.randint(0, 3, (8,), generator=g)) for _ in range(n)]

def _train(model, opt, batches):
    for xb, yb in batches:
        opt.zero_grad(); F.cross_entropy(model(xb), yb).backward(); opt.step()

def _assert_same_params(m1, m2):
    for a, b in zip(m1.parameters(), m2.parameters()): torch.testing.assert_close(a, b, atol=1e-6, rtol=0)

SGD_CFGS = [dict(lr=0.2, momentum=mom, weight_decay=wd, nesterov=nest)
            for mom, wd, nest in itertools.product((0., 0.9), (0., 0.05), (False, True)) if not (nest and mom == 0)]
ADAM_CFGS = [dict(lr=3e-2, betas=b, weight_decay=wd) for b, wd in itertools.product(((0.9, 0.999), (0.5, 0.9)), (0., 0.1))]
ADAM_CFGS += [dict(lr=1e-3, eps=1e-3, weight_decay=0.3)]

@pytest.mark.parametrize('cfg', SGD_CFGS, ids=str)
def test_sgd_matches_torch(cfg):
    m1, m2 = _model(), _model()
    _train(m1, SGD(m1.parameters(), **cfg), _batches()); _train(m2, torch.optim.SGD(m2.parameters(), **cfg), _batches())
    _assert_same_params(m1, m2)

@pytest.mark.parametrize('ours,theirs', [(Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)], ids=['Adam', 'AdamW'])
@pytest.mark.parametrize('cfg', ADAM_CFGS, ids=str)
def test_adam_family_matches_torch(ours, theirs, cfg):
    m1, m2 = _model(), _model()
    _train(m1, ours(m1.parameters(), **cfg), _batches()); _train(m2, theirs(m2.parameters(), **cfg), _batches())
    _assert_same_params(m1, m2)

def test_adamw_default_weight_decay_matches_torch():
    assert AdamW(_model().parameters()).defaults['weight_decay'] == torch.optim.AdamW(_model().parameters()).defaults['weight_decay']

@pytest.mark.parametrize('cls', [SGD, Adam, AdamW])
def test_resume_from_state_dict_equals_uninterrupted_run(cls):
    kw = dict(lr=0.05, momentum=0.9) if cls is SGD else dict(lr=1e-2)
    batches = _batches()
    ref = _model(); _train(ref, cls(ref.parameters(), **kw), batches)
    m = _model(); opt = cls(m.parameters(), **kw); _train(m, opt, batches[:5])
    sd_model, sd_opt = copy.deepcopy(m.state_dict()), copy.deepcopy(opt.state_dict())
    m2 = _model(seed=1); m2.load_state_dict(sd_model)
    opt2 = cls(m2.parameters(), **kw); opt2.load_state_dict(sd_opt)
    _train(m2, opt2, batches[5:])
    _assert_same_params(ref, m2)

def test_torch_scheduler_drives_our_optimizer():
    m = _model(); opt = AdamW(m.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=10)
    lrs, betas = [], []
    for xb, yb in _batches(10):
        opt.zero_grad(); F.cross_entropy(m(xb), yb).backward(); opt.step(); sched.step()
        lrs.append(opt.param_groups[0]['lr']); betas.append(opt.param_groups[0]['betas'][0])
    assert max(lrs) > 5 * min(lrs) and len(set(betas)) > 1   # lr and momentum (beta1) both cycled

def test_param_groups_and_skipped_params():
    m = _model()
    frozen = m[0].weight
    opt = SGD([dict(params=[m[0].bias], lr=0.0), dict(params=m[2].parameters())], lr=0.1)
    before = [p.detach().clone() for p in m.parameters()]
    F.cross_entropy(m(torch.randn(4, 4)), torch.tensor([0, 1, 2, 0])).backward(); opt.step()
    after = list(m.parameters())
    assert torch.equal(after[0], before[0])                  # not in the optimizer
    assert torch.equal(after[1], before[1])                  # lr = 0
    assert not torch.equal(after[2], before[2]) and not torch.equal(after[3], before[3])
    assert frozen.grad is not None

@pytest.mark.parametrize('bad,msg', [
    (lambda ps: SGD(ps, lr=-0.1), 'lr must be'), (lambda ps: SGD(ps, lr=0.1, momentum=-1), 'momentum must be'),
    (lambda ps: Adam(ps, betas=(0.9,)), 'betas must be a pair'), (lambda ps: AdamW(ps, eps=-1.), 'eps must be'),
    (lambda ps: SGD([], lr=0.1), 'model.parameters()'), (lambda ps: SGD(ps, lr=0.1, nesterov=True), 'momentum=0.9')])
def test_bad_hyper_parameters_are_named(bad, msg):
    with pytest.raises((ValueError, TypeError), match=None) as e: bad(_model().parameters())
    assert msg in str(e.value)

def test_bad_param_group_leaves_optimizer_unchanged():
    m = _model(); opt = Adam(m[0].parameters(), lr=1e-3)
    with pytest.raises(ValueError, match='betas'): opt.add_param_group(dict(params=m[2].parameters(), betas=(0.9, 2.)))
    assert len(opt.param_groups) == 1

@pytest.mark.parametrize('norm_type', [1., 2., 3., math.inf])
@pytest.mark.parametrize('max_norm', [1e-3, 0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ms = [_model(), _model()]
    xb, yb = _batches(1)[0]
    for m in ms: F.cross_entropy(m(xb * 10), yb).backward()
    ours = clip_grad_norm(ms[0].parameters(), max_norm, norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(ms[1].parameters(), max_norm, norm_type)
    torch.testing.assert_close(ours, theirs)
    for a, b in zip(ms[0].parameters(), ms[1].parameters()): torch.testing.assert_close(a.grad, b.grad)

def test_clip_single_tensor_and_no_grads():
    p = nn.Parameter(torch.zeros(3)); p.grad = torch.tensor([3., 4., 0.])
    torch.testing.assert_close(clip_grad_norm(p, 1.0), torch.tensor(5.))
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.8, 0.]), atol=1e-6, rtol=0)
    clip_grad_value(p, 0.7); torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.7, 0.]))
    assert clip_grad_norm(_model().parameters(), 1.0).item() == 0.   # no gradients yet: nothing to clip

def test_find_nonfinite_names_the_culprits():
    m = _model()
    assert find_nonfinite(m) == []
    with torch.no_grad(): m[2].bias[1] = float('nan')
    F.cross_entropy(m(torch.randn(2, 4)), torch.tensor([0, 1])).backward()
    found = find_nonfinite(m)
    assert '2.bias weights: 1 NaN, 0 inf (of 3)' in found
    assert len(found) == 5 and sum('gradient' in s for s in found) == 4   # NaN output: every gradient is NaN
