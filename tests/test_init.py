"""Contracts of learner_course.init beyond the notebook: `BatchTransformCB` says what its transform receives and stops
at once, naming the transform, when the result has another structure — for (x, y), multi-input and dict batches;
`GeneralRelu` leaves its input alone; `lsuv_init` leaves no hook behind and restores the training mode."""
from functools import partial
from types import SimpleNamespace
import pytest, torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner
from learner_course.events import Callback
from learner_course.init import BatchTransformCB, GeneralRelu, init_weights, lsuv_init, simple_cnn

def _fake_learn(batch, xb, yb, training=True, **kw):
    "What `before_batch` sees of a learner, for batch structures the loop does not serve yet."
    return SimpleNamespace(batch=batch, xb=xb, yb=yb, training=training, **kw)

def _run(cb, learn):
    cb.learn = learn; cb.before_batch()
    return learn

x, x2, y = torch.randn(4, 3), torch.randn(4, 5), torch.tensor([0, 1, 0, 1])

def test_inputs_of_every_structure():
    l = _run(BatchTransformCB(lambda xb: xb * 2), _fake_learn((x, y), x, y))
    assert torch.equal(l.xb, x * 2) and l.yb is y
    l = _run(BatchTransformCB(lambda xs: (xs[0] + 1, xs[1])), _fake_learn((x, x2, y), (x, x2), y))   # several inputs
    assert torch.equal(l.xb[0], x + 1) and l.xb[1] is x2
    l = _run(BatchTransformCB(lambda d: {**d, 'img': d['img'] * 0}), _fake_learn({'img': x, 'y': y}, {'img': x}, y))
    assert torch.equal(l.xb['img'], torch.zeros_like(x))

def test_whole_batch_with_several_inputs_and_dicts():
    l = _run(BatchTransformCB(lambda b: (b[0] * 2, b[1], b[2]), whole_batch=True), _fake_learn((x, x2, y), None, None))
    assert torch.equal(l.xb[0], x * 2) and l.xb[1] is x2 and l.yb is y          # inputs first, the target last
    l = _run(BatchTransformCB(lambda b: (b[0] * 2, b[1], b[2]), whole_batch=True), _fake_learn((x, x2, y), None, None, n_inp=1))
    assert torch.equal(l.xb, x * 2) and l.yb == (x2, y)                         # learn.n_inp decides when it exists
    split = lambda b: ({k: v for k, v in b.items() if k != 'y'}, b['y'])
    l = _run(BatchTransformCB(lambda b: {**b, 'img': b['img'] + 1}, whole_batch=True),
             _fake_learn({'img': x, 'y': y}, None, None, split_batch=split))
    assert torch.equal(l.xb['img'], x + 1) and l.yb is y                        # dicts: the learner's own rule

def pair(xb): return xb, xb
def scaled_pair(xb, k): return xb * k, xb

@pytest.mark.parametrize('tfm,whole,batch,xb,err,says', [
    (pair, False, (x, y), x, TypeError, "`pair` received the batch's inputs"),
    (pair, False, (x, y), x, TypeError, 'whole_batch=True'),
    (lambda b: b[0], True, [x, y], None, TypeError, 'returned the inputs alone'),
    (lambda xs: xs[0], False, (x, x2, y), (x, x2), TypeError, 'a tuple of 2'),
    (lambda d: {'image': d['img']}, False, {'img': x, 'y': y}, {'img': x}, TypeError, "keys ['img']"),
    (lambda xb: xb[:2], False, (x, y), x, ValueError, 'another batch size'),
    (lambda xb: None, False, (x, y), x, TypeError, 'forget to `return`'),
    (partial(scaled_pair, k=2), False, (x, y), x, TypeError, '`scaled_pair` received'),
], ids=['tuple-for-inputs', 'hint-whole-batch', 'inputs-for-whole-batch', 'one-of-two-inputs', 'dict-keys', 'batch-size',
        'none', 'partial-name'])
def test_wrong_structure_fails_at_once_naming_the_transform(tfm, whole, batch, xb, err, says):
    with pytest.raises(err) as e: _run(BatchTransformCB(tfm, whole_batch=whole), _fake_learn(batch, xb, y))
    assert says in str(e.value), str(e.value)

def test_wrong_structure_stops_a_real_fit_before_any_step():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(3, 2)); w0 = m[1].weight.detach().clone()
    dl = DataLoader(TensorDataset(x, y), batch_size=2)
    l = Learner(m, (dl, dl), lr=0.1, cbs=[BatchTransformCB(pair)]); l.logger = None
    with pytest.raises(TypeError, match='pair'): l.fit(1)
    assert torch.equal(m[1].weight, w0)

def test_validation_only_and_training_only():
    seen = []
    class Spy(Callback):
        def before_batch(self): seen.append((self.learn.training, float(self.learn.xb.abs().sum())))
    dl = DataLoader(TensorDataset(x, y), batch_size=2)
    l = Learner(nn.Linear(3, 2), (dl, dl), lr=0.1, cbs=[BatchTransformCB(lambda xb: xb * 0, on_train=False), Spy()])
    l.logger = None; l.fit(1)
    assert all(v > 0 for t, v in seen if t) and all(v == 0 for t, v in seen if not t)

def test_general_relu_leaves_its_input_alone_and_passes_gradients():
    xi = torch.linspace(-3, 3, 13, requires_grad=True)
    before = xi.detach().clone()
    out = GeneralRelu(leak=0.1, sub=0.4, maxv=2.)(xi)
    out.sum().backward()
    assert torch.equal(xi.detach(), before) and xi.grad is not None

def _n_hooks(m): return sum(len(mod._forward_hooks) for mod in m.modules())

def test_lsuv_leaves_no_hook_and_restores_training_mode():
    m = simple_cnn(); m.train()
    lsuv_init(m, torch.randn(16, 1, 28, 28))
    assert _n_hooks(m) == 0 and m.training
    m.eval()
    with pytest.raises(RuntimeError): lsuv_init(m, torch.randn(16, 3, 28, 28))   # wrong channels: fails inside forward
    assert _n_hooks(m) == 0 and not m.training

def test_init_weights_zero_bias_kaiming_std():
    torch.manual_seed(0); lin = nn.Linear(1000, 500); lin.apply(partial(init_weights, leaky=0.5))
    assert lin.bias.abs().sum() == 0
    assert abs(lin.weight.std().item() - (2 / (1.25 * 1000)) ** 0.5) < 0.02 * (2 / (1.25 * 1000)) ** 0.5
