"""Contracts of lesson 19's transfer tools: layer groups, freezing and the optimizer, discriminative lrs, gradual
unfreezing, augmentation as a callback, export round trips (to a CPU program) and their failure modes. Inputs are
small random tensors (said where used), so this runs in seconds."""
import copy, types
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner
from learner_course.events import Callback
from learner_course.layers import ResidualBlock, Mish
from learner_course.transfer import (AugmentCB, layer_groups, freeze, unfreeze, n_trainable, discriminative_opt,
                                     export_model)
from learner_course.exercises.l19 import GradualUnfreeze

G = lambda s=0: torch.Generator().manual_seed(s)   # random test tensors, reproducible

def _dls(n=16, bs=8):
    x = torch.randn(n, 4, generator=G()); y = (x[:, 0] > 0).long()   # random test data
    return DataLoader(TensorDataset(x, y), bs), DataLoader(TensorDataset(x, y), bs)

def _mlp(): return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 5), nn.Linear(5, 2))

def test_layer_groups_freeze_counts_and_bad_until():
    m = _mlp(); sizes = [25, 30, 12]
    assert [sum(p.numel() for p in g.parameters()) for g in layer_groups(m)] == sizes
    for until, want in ((-1, 12), (0, 67), (1, 42), (3, 0), (-3, 67)):
        freeze(m, until=until); assert n_trainable(m) == want, until
    unfreeze(m); assert n_trainable(m) == 67
    before = [p.requires_grad for p in m.parameters()]
    with pytest.raises(ValueError, match='from -3 to 3'): freeze(m, until=4)
    assert [p.requires_grad for p in m.parameters()] == before          # nothing changed on bad input

def test_layer_groups_refuses_own_parameters():
    class M(nn.Module):
        def __init__(self): super().__init__(); self.w = nn.Parameter(torch.zeros(2)); self.lin = nn.Linear(2, 2)
    with pytest.raises(ValueError, match='layer_groups'): layer_groups(M())
    class N(M):
        def layer_groups(self): return [self.lin]
    n = N(); assert layer_groups(n) == [n.lin]

def test_freeze_on_learner_recreates_optimizer_with_trainable_params_only():
    learn = Learner(_mlp(), _dls(), F.cross_entropy, lr=0.1, logger=None)
    freeze(learn)
    in_opt = {id(p) for pg in learn.opt.param_groups for p in pg['params']}
    assert in_opt == {id(p) for p in learn.model.parameters() if p.requires_grad}
    w0 = learn.model[0].weight.detach().clone()
    learn.fit(1); assert torch.equal(w0, learn.model[0].weight)       # frozen: unchanged
    unfreeze(learn); learn.fit(1); assert not torch.equal(w0, learn.model[0].weight)

def test_discriminative_opt_groups_and_lrs():
    m = _mlp()
    of = discriminative_opt(m, [1e-3, 1e-2, 1e-1], momentum=0.9, opt=torch.optim.SGD)
    learn = Learner(m, _dls(), F.cross_entropy, opt_func=of, logger=None)
    freeze(learn, until=1)
    assert [pg['lr'] for pg in learn.opt.param_groups] == [1e-2, 1e-1]
    assert all(pg['momentum'] == 0.9 for pg in learn.opt.param_groups)
    learn.fit(1)
    assert [pg['lr'] for pg in learn.opt.param_groups] == [1e-2, 1e-1]  # fit without lr keeps the spread
    lrs = [pg['lr'] for pg in discriminative_opt(m, slice(1e-4, 1e-2))(list(m.parameters())).param_groups]
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2])
    with pytest.raises(ValueError, match='2 learning rates for 3 layer groups'): discriminative_opt(m, [1, 2])
    with pytest.raises(ValueError, match='none of the parameters'): of(list(_mlp().parameters()))

def test_gradual_unfreeze_trainable_counts_per_epoch():
    counts = []
    class Count(Callback):
        order = 100
        def before_train(self): counts.append(n_trainable(self.learn))
    learn = Learner(_mlp(), _dls(), F.cross_entropy, lr=0.1, cbs=[Count()], logger=None)
    learn.fit(4, cbs=[GradualUnfreeze()])
    assert counts == [12, 42, 67, 67]
    learn.fit(2, cbs=[GradualUnfreeze()])              # each fit starts again from the head
    assert counts[4:] == [12, 42]

def test_augment_cb_train_only_and_order():
    seen = {}
    class Spy(Callback):
        order = 0
        def before_batch(self): seen.setdefault(self.training, self.learn.xb.clone())
    x = torch.randn(8, 1, 4, 4, generator=G()); y = torch.zeros(8, dtype=torch.long)   # random test images
    dls = DataLoader(TensorDataset(x, y), 8), DataLoader(TensorDataset(x, y), 8)
    learn = Learner(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), dls, F.cross_entropy, logger=None)
    learn.fit(1, cbs=[AugmentCB(lambda t: t.flip(-1)), Spy()])
    torch.testing.assert_close(seen[True], x.flip(-1)); torch.testing.assert_close(seen[False], x)
    assert -200 < AugmentCB(lambda t: t).order < 0
    calls = []
    AugmentCB(lambda t: calls.append(t.shape) or t, per_item=False).augment(x)
    AugmentCB([lambda t: calls.append(t.shape) or t]).augment(x[:2])
    assert calls == [x.shape, x.shape[1:], x.shape[1:]]
    with pytest.raises(TypeError, match='callable'): AugmentCB(3)

def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(ResidualBlock(1, 4, stride=2, act=Mish), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))

def test_export_round_trip_dynamic_batch(tmp_path):
    m = _cnn().train()
    x = torch.randn(3, 1, 8, 8, generator=G())                # random test images
    f = export_model(m, x, tmp_path/'m.pt2')
    assert f == tmp_path/'m.pt2' and m.training               # mode restored
    loaded = torch.export.load(f).module()
    m.eval()
    for n in (1, 3, 6):
        xn = torch.randn(n, 1, 8, 8, generator=G(n))
        with torch.no_grad(): torch.testing.assert_close(loaded(xn), m(xn))
    assert [p.name for p in tmp_path.iterdir()] == ['m.pt2']  # no temporary file left

def test_export_writes_a_cpu_program_and_leaves_the_model_alone(tmp_path, monkeypatch):
    "A model that is not on the CPU is exported from a CPU copy, so the file loads on a machine without a GPU."
    m = _cnn().train()
    x = torch.randn(2, 1, 8, 8, generator=G())
    copies = []
    spy = types.SimpleNamespace(deepcopy=lambda o, *a, **k: (copies.append(o), copy.deepcopy(o, *a, **k))[1])
    monkeypatch.setattr('learner_course.transfer.copy', spy)
    f = export_model(m, x, tmp_path/'cpu.pt2')
    assert copies == [] and m.training                     # on the CPU already: exported as it is
    assert {t.device.type for t in torch.export.load(f).state_dict.values()} == {'cpu'}
    away = m.to('meta')        # parameters on another device, as after training on a GPU (meta: no values to export)
    with pytest.raises(NotImplementedError): export_model(away, x, tmp_path/'away.pt2')
    assert copies == [away] and next(away.parameters()).device.type == 'meta'   # copied to the CPU, not moved

def test_export_refuses_mismatch_and_keeps_old_file(tmp_path):
    class Noisy(nn.Module):
        def __init__(self): super().__init__(); self.lin = nn.Linear(4, 2)
        def forward(self, x): return F.dropout(self.lin(x), 0.5, training=True)
    f = tmp_path/'m.pt2'; f.write_bytes(b'previous')
    with pytest.raises(ValueError, match='Nothing was written'): export_model(Noisy(), torch.ones(4, 4), f)
    assert f.read_bytes() == b'previous' and [p.name for p in tmp_path.iterdir()] == ['m.pt2']
    with pytest.raises(ValueError, match=r'use m\.pt2'): export_model(_cnn(), torch.zeros(1, 1, 8, 8), tmp_path/'m.pth')
