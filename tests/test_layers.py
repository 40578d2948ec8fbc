"""Contracts of lesson 18's building blocks: parity with torch modules, the residual block and `resnet` the final model
is built from, the multi-task loss, and the exercises' reference answers. Inputs are small random tensors (said where
used), so this runs in seconds. Lesson 19's transfer tools are in test_transfer.py."""
import math
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from learner_course.losses import focal_loss
from learner_course.layers import (LinearByHand, Swish, Mish, MultiHeadSelfAttention, conv_bn, ResidualBlock, resnet,
                                   MultiTaskLoss)
from learner_course.exercises.l18 import focal_loss_by_hand, PreActResidualBlock

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
    assert ResidualBlock(4, 4, stride=2)(torch.randn(1, 4, 7, 7, generator=G())).shape == (1, 4, 4, 4)   # odd sizes round up

def test_residual_block_shortcut_pools_every_pixel():
    "The stride-2 shortcut averages 2x2 patches (a strided 1x1 conv would read one pixel in four)."
    b = ResidualBlock(1, 1, stride=2)
    with torch.no_grad():
        for p in b.convs.parameters(): p.zero_()
    b.eval()                                           # BatchNorm at its initial running stats: near identity
    x = torch.zeros(1, 1, 4, 4); x[0, 0, 1, 1] = 4.    # one bright pixel off the stride-2 grid
    y = b(x)
    assert y[0, 0, 0, 0] > 0.9 and y.sum() > 0.9       # its 2x2 patch's average reaches the output

def test_conv_bn_is_lesson_10_conv_with_batchnorm():
    layers = conv_bn(3, 5, ks=1, stride=2, act=None)
    assert [type(m) for m in layers] == [nn.Conv2d, nn.BatchNorm2d]
    assert layers[0].bias is None and layers[0].stride == (2, 2) and layers[0].kernel_size == (1, 1)
    assert [type(m) for m in conv_bn(3, 5, act=Mish)] == [nn.Conv2d, nn.BatchNorm2d, Mish]

def test_resnet_groups_shapes_and_init():
    torch.manual_seed(0)
    m = resnet((4, 8, 16), n_out=3)
    assert len(m) == 4 and m(torch.randn(2, 1, 28, 28, generator=G())).shape == (2, 3)
    assert all(isinstance(b, ResidualBlock) for b in m[1:3])
    full = resnet((4, 8), stem_stride=1, p_drop=0.5)
    assert full[0](torch.zeros(1, 1, 28, 28)).shape == (1, 4, 28, 28) and any(isinstance(x, nn.Dropout) for x in full[-1])
    w = resnet((64, 64))[1].convs[0][0].weight          # Kaiming normal: std sqrt(2 / fan_in)
    assert abs(w.std().item() - math.sqrt(2 / (64 * 9))) < 0.01
    with pytest.raises(ValueError, match='at least the stem'): resnet(())

def test_preact_block_solution_is_identity_with_zero_branch():
    x = torch.randn(2, 4, 6, 6, generator=G())
    b = PreActResidualBlock(4, 4)
    with torch.no_grad():
        for p in b.convs.parameters(): p.zero_()
    torch.testing.assert_close(b(x), x)

@pytest.mark.parametrize('gamma', [0., 1., 2.5])
def test_focal_solution_matches_lesson_02(gamma):
    logits, y = torch.randn(6, 4, generator=G()), torch.randint(0, 4, (6,), generator=G(1))
    torch.testing.assert_close(focal_loss_by_hand(logits, y, gamma), focal_loss(logits, y, gamma))
    alpha = torch.tensor([0.5, 1., 2., 4.])
    torch.testing.assert_close(focal_loss_by_hand(logits, y, gamma, alpha), focal_loss(logits, y, gamma, alpha))

def test_multitask_loss_weighted_sum_and_errors():
    p = dict(a=torch.randn(4, 3, generator=G()), b=torch.randn(4, generator=G(1)))
    y = torch.tensor([0, 2, 1, 2])
    mtl = MultiTaskLoss(dict(a=F.cross_entropy, b=F.mse_loss), weights=dict(b=0.25), targets=dict(b=lambda y: y.float()))
    want = F.cross_entropy(p['a'], y) + 0.25 * F.mse_loss(p['b'], y.float())
    torch.testing.assert_close(mtl(p, y), want)
    assert set(mtl.last) == {'a', 'b'} and not mtl.last['a'].requires_grad
    with pytest.raises(TypeError, match='return dict'): mtl(p['a'], y)
    with pytest.raises(ValueError, match=r"lack \['b'\]"): mtl(dict(a=p['a']), y)
