"""Contracts of lesson 12's building blocks: parity with torch modules, freezing, discriminative lrs, augmentation,
export round trips and their failure modes. Inputs are small random tensors (said where used), so this runs in seconds."""
import math
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner, Callback
from learner_course.losses import focal_loss
from learner_course.layers import (LinearByHand, Swish, Mish, MultiHeadSelfAttention, ResidualBlock, MultiTaskLoss,
                                   AugmentCB, layer_groups, freeze, unfreeze, n_trainable, discriminative_opt,
                                   GradualUnfreeze, export_model, focal_loss_by_hand, PreActResidualBlock)

G = lambda s=0: torch.Generator().manual_seed(s)   # random test tensors, reproducible

def test_linear_by_hand_matches_nn_linear_outputs_and_grads():
    ours, ref = LinearByHand(7, 3), nn.Linear(7, 3)
    with torch.no_grad(): ours.weight.copy_(ref.weight); ours.bias.copy_(ref.bias)
    x = torch.randn(2, 5, 7, generator=G())             # extra leading dims, as nn.Linear allows
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = ours(x1), ref(x2)
    torch.testing.assert_close(y1, y2)
    (y1.sin().sum()).backward(); (y2.sin().sum()).backward()
    for a, b in ((x1.grad, x2.grad), (ours.weight.grad, ref.weight.grad), (ours.bias.grad, ref.bias.grad)):
        torch.testing.assert_close(a, b)

def test_linear_by_hand_init_scale_like_nn_linear():
    torch.manual_seed(0); w = LinearByHand(400, 300).weight
    bound = 1 / math.sqrt(400)                           # nn.Linear's kaiming_uniform(a=sqrt(5)) bound
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound

def test_linear_by_hand_wrong_width_names_fix():
    with pytest.raises(ValueError, match='flatten the images first'): LinearByHand(784, 10)(torch.zeros(2, 1, 28, 28))
    assert LinearByHand(3, 2, bias=False).bias is None

def test_swish_and_mish_match_torch_and_beta_learns():
    x = torch.linspace(-8, 8, 50)
    torch.testing.assert_close(Swish()(x), F.silu(x))
    torch.testing.assert_close(Mish()(x), F.mish(x))
    s = Swish(1.)
    opt = torch.optim.SGD(s.parameters(), lr=0.1)
    (s(x) - F.relu(x)).pow(2).mean().backward(); opt.step()
    assert s.beta.item() > 1                             # moving towards ReLU increases beta
    fixed = Swish(2., learnable=False)
    assert list(fixed.parameters()) == [] and 'beta' in fixed.state_dict()

@pytest.mark.parametrize('E,H', [(8, 1), (12, 3), (16, 8)])
def test_attention_matches_nn_multihead_attention(E, H):
    ours, ref = MultiHeadSelfAttention(E, H), nn.MultiheadAttention(E, H, batch_first=True)
    with torch.no_grad():
        ours.qkv.weight.copy_(ref.in_proj_weight); ours.qkv.bias.copy_(ref.in_proj_bias)
        ours.out.weight.copy_(ref.out_proj.weight); ours.out.bias.copy_(ref.out_proj.bias)
    x = torch.randn(2, 5, E, generator=G())
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    (y1, w1), (y2, w2) = ours(x1, need_weights=True), ref(x2, x2, x2, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(y1, y2); torch.testing.assert_close(w1, w2)
    y1.sum().backward(); y2.sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.qkv.weight.grad, ref.in_proj_weight.grad)

def test_attention_errors_name_the_fix():
    with pytest.raises(ValueError, match=r'num_heads in \[1, 2, 5, 10\]'): MultiHeadSelfAttention(10, 4)
    with pytest.raises(ValueError, match='flatten'): MultiHeadSelfAttention(8, 2)(torch.zeros(2, 8, 3, 3))

def test_residual_block_shapes_and_shortcut():
    x = torch.randn(2, 4, 8, 8, generator=G())
    assert ResidualBlock(4, 4)(x).shape == x.shape and isinstance(ResidualBlock(4, 4).shortcut, nn.Identity)
    b = ResidualBlock(4, 6, stride=2, act=Swish)
    assert b(x).shape == (2, 6, 4, 4) and not isinstance(b.shortcut, nn.Identity)
    assert len([m for m in b.modules() if isinstance(m, Swish)]) == 2   # one activation instance per position

def test_preact_block_solution_is_identity_with_zero_branch():
    x = torch.randn(2, 4, 6, 6, generator=G())
    b = PreActResidualBlock(4, 4)
    with torch.no_grad():
        for p in b.convs.parameters(): p.zero_()
    torch.testing.assert_close(b(x), x)

@pytest.mark.parametrize('gamma', [0., 1., 2.5])
def test_focal_solution_matches_lesson_01(gamma):
    logits, y = torch.randn(6, 4, generator=G()), torch.randint(0, 4, (6,), generator=G(1))
    torch.testing.assert_close(focal_loss_by_hand(logits, y, gamma), focal_loss(logits, y, gamma))

def test_multitask_loss_weighted_sum_and_errors():
    p = dict(a=torch.randn(4, 3, generator=G()), b=torch.randn(4, generator=G(1)))
    y = torch.tensor([0, 2, 1, 2])
    mtl = MultiTaskLoss(dict(a=F.cross_entropy, b=F.mse_loss), weights=dict(b=0.25), targets=dict(b=lambda y: y.float()))
    want = F.cross_entropy(p['a'], y) + 0.25 * F.mse_loss(p['b'], y.float())
    torch.testing.assert_close(mtl(p, y), want)
    assert set(mtl.last) == {'a', 'b'} and not mtl.last['a'].requires_grad
    with pytest.raises(TypeError, match='return dict'): mtl(p['a'], y)
    with pytest.raises(ValueError, match=r"lack \['b'\]"): mtl(dict(a=p['a']), y)

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
    learn = Learner(_mlp(), _dls(), F.cross_entropy, lr=0.1)
    learn.logger = lambda row: None
    freeze(learn)
    in_opt = {id(p) for pg in learn.opt.param_groups for p in pg['params']}
    assert in_opt == {id(p) for p in learn.model.parameters() if p.requires_grad}
    w0 = learn.model[0].weight.detach().clone()
    learn.fit(1); assert torch.equal(w0, learn.model[0].weight)       # frozen: unchanged
    unfreeze(learn); learn.fit(1); assert not torch.equal(w0, learn.model[0].weight)

def test_discriminative_opt_groups_and_lrs():
    m = _mlp()
    of = discriminative_opt(m, [1e-3, 1e-2, 1e-1], momentum=0.9, opt=torch.optim.SGD)
    learn = Learner(m, _dls(), F.cross_entropy, opt_func=of)
    learn.logger = lambda row: None
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
    learn = Learner(_mlp(), _dls(), F.cross_entropy, lr=0.1, cbs=[Count()])
    learn.logger = lambda row: None
    learn.fit(4, cbs=[GradualUnfreeze()])
    assert counts == [12, 42, 67, 67]

def test_augment_cb_train_only_and_order():
    seen = {}
    class Spy(Callback):
        order = 0
        def before_batch(self): seen.setdefault(self.training, self.learn.xb.clone())
    x = torch.randn(8, 1, 4, 4, generator=G()); y = torch.zeros(8, dtype=torch.long)   # random test images
    dls = DataLoader(TensorDataset(x, y), 8), DataLoader(TensorDataset(x, y), 8)
    learn = Learner(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), dls, F.cross_entropy)
    learn.logger = lambda row: None
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

def test_export_refuses_mismatch_and_keeps_old_file(tmp_path):
    class Noisy(nn.Module):
        def __init__(self): super().__init__(); self.lin = nn.Linear(4, 2)
        def forward(self, x): return F.dropout(self.lin(x), 0.5, training=True)
    f = tmp_path/'m.pt2'; f.write_bytes(b'previous')
    with pytest.raises(ValueError, match='Nothing was written'): export_model(Noisy(), torch.ones(4, 4), f)
    assert f.read_bytes() == b'previous' and [p.name for p in tmp_path.iterdir()] == ['m.pt2']
    with pytest.raises(ValueError, match=r'use m\.pt2'): export_model(_cnn(), torch.zeros(1, 1, 8, 8), tmp_path/'m.pth')
