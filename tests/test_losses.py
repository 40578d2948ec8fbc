"""Contracts of `learner_course.losses` (lesson 02) beyond the lesson's inline tests: parity with PyTorch over a grid
of shapes, options and dtypes; bad targets named; and the losses following the logits to their device — class
weights made on the CPU still work when the batch is elsewhere (the `meta` device stands in for a GPU here).
"""
import pytest
import torch
import torch.nn.functional as F
from learner_course.losses import cross_entropy, focal_loss, FocalLoss, LabelSmoothingCE, logsumexp, stable_softmax

@pytest.mark.parametrize('shape', [(7, 4), (3, 4, 5), (2, 4, 3, 3)])
@pytest.mark.parametrize('eps', [0., 0.2])
@pytest.mark.parametrize('weighted', [False, True])
def test_cross_entropy_matches_torch(shape, eps, weighted):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g, dtype=torch.float64) * 4
    y = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=g)
    w = torch.rand(shape[1], generator=g, dtype=torch.float64) + 0.1 if weighted else None
    for red in ('mean', 'sum', 'none'):
        torch.testing.assert_close(cross_entropy(x, y, w, red, eps), F.cross_entropy(x, y, w, reduction=red, label_smoothing=eps))
    torch.testing.assert_close(LabelSmoothingCE(eps, w)(x, y), F.cross_entropy(x, y, w, label_smoothing=eps))

def test_focal_loss_reduces_to_cross_entropy_and_bad_targets():
    x, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    torch.testing.assert_close(focal_loss(x, y, gamma=0.), F.cross_entropy(x, y))
    assert (focal_loss(x, y, gamma=2., reduction='none') <= F.cross_entropy(x, y, reduction='none')).all()
    with pytest.raises(TypeError, match=r'target\.long\(\)'): focal_loss(x, y.float())
    with pytest.raises(TypeError, match='int64'): cross_entropy(x, y.int())

def test_logsumexp_extremes():
    x = torch.tensor([[1e4, 1e4], [-1e4, -1e4], [float('-inf'), 0.]])
    torch.testing.assert_close(logsumexp(x), torch.logsumexp(x, -1))

# --- devices: weights made on the CPU, batches elsewhere ----------------------------------------------------------------

def _meta_batch(n=6, c=3):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, c, generator=g).to('meta'), torch.randint(0, c, (n,), generator=g).to('meta')

@pytest.mark.parametrize('make', [lambda w: LabelSmoothingCE(0.1, weight=w), lambda w: FocalLoss(2., alpha=w)],
                         ids=['LabelSmoothingCE', 'FocalLoss'])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_loss_modules_follow_the_logits_device(make, reduction):
    x, y = _meta_batch()
    loss = make(torch.tensor([1., 2., 0.5]))
    loss.reduction = reduction
    out = loss(x, y)
    assert out.device.type == 'meta' and out.shape == (() if reduction != 'none' else (6,))

@pytest.mark.parametrize('make,buf', [(lambda w: LabelSmoothingCE(0.1, weight=w), 'weight'), (lambda w: FocalLoss(alpha=w), 'alpha')])
def test_loss_weights_are_buffers(make, buf):
    "`.to(device)` moves the weights with the module, and they are saved in its state_dict."
    loss = make(torch.tensor([1., 2., 0.5]))
    assert buf in loss.state_dict()
    assert getattr(loss.to('meta'), buf).device.type == 'meta'

def test_functional_losses_move_the_weights():
    x, y = _meta_batch()
    w = torch.tensor([1., 2., 0.5])
    for out in (cross_entropy(x, y, w), cross_entropy(x, y, w, label_smoothing=0.2), focal_loss(x, y, alpha=w)):
        assert out.device.type == 'meta'
    assert w.device.type == 'cpu'                      # the caller's tensor is not moved

def test_weights_on_the_same_device_give_the_same_numbers():
    g = torch.Generator().manual_seed(1)
    x, y, w = torch.randn(8, 4, generator=g), torch.randint(0, 4, (8,), generator=g), torch.rand(4, generator=g) + 0.1
    torch.testing.assert_close(LabelSmoothingCE(0.1, weight=w)(x, y), F.cross_entropy(x, y, w, label_smoothing=0.1))
    torch.testing.assert_close(FocalLoss(0., alpha=w, reduction='sum')(x, y), F.cross_entropy(x, y, w, reduction='sum'))

def test_stable_softmax_extremes():
    x = torch.tensor([[1000., 1001., 1002.], [-1000., -1000., -1000.]])
    torch.testing.assert_close(stable_softmax(x), torch.softmax(x, -1))
