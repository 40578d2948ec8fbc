"""The Learner's contract (lessons 03/04), beyond what the notebooks show.

Every test uses tiny RANDOM TEST DATA (a few samples of 5 features, 2 classes) so the file runs in seconds.
Covers: the exact event order of a fit, of every Cancel exception at every point where it is allowed, and of
errors; temporary callbacks; eval mode / no_grad in validation; parity with a hand-written loop (identical
weights); clear errors before any weight changes on bad input; seed-000 custom Metric and callback;
save/load; get_preds/predict.
"""
import copy, math
from functools import partial
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.events import (Callback, EVENTS, CancelFitException, CancelEpochException, CancelTrainException,
    CancelValidateException, CancelBatchException, CancelBackwardException, CancelStepException)
from learner_course.learner import Learner, TrainCB
from learner_course.callbacks import Recorder
from learner_course.progress import ProgressCallback
from learner_course.metrics import Metric, Accuracy

PHASES = ('fit', 'epoch', 'train', 'validate', 'batch', 'backward', 'step')

def tiny_data(n_train=4, n_valid=2, bs=2, seed=0, shuffle=False):
    "Random test data: x ~ N(0, 1) with 5 features, label = (x[:, 0] > 0)."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_valid, 5, generator=g); y = (x[:, 0] > 0).long()
    tg = torch.Generator().manual_seed(seed + 1) if shuffle else None
    return (DataLoader(TensorDataset(x[:n_train], y[:n_train]), bs, shuffle=shuffle, generator=tg),
            DataLoader(TensorDataset(x[n_train:], y[n_train:]), bs))

def quiet(learn):
    learn.logger = None
    return learn

def make_learner(dls=None, model=None, **kw):
    torch.manual_seed(0)
    return quiet(Learner(model if model is not None else nn.Linear(5, 2), dls if dls is not None else tiny_data(),
                         kw.pop('loss_func', F.cross_entropy), **kw))

class Events(Callback):
    "Record every event, including after_cancel_* (and cleanup_* when asked). Runs first, so it sees them all."
    order = -1000
    def __init__(self, cleanup=False): self.events, self.cleanup = [], cleanup
for _e in EVENTS + tuple(f'after_cancel_{p}' for p in PHASES):
    setattr(Events, _e, (lambda nm: lambda self: self.events.append(nm))(_e))
for _p in PHASES:
    setattr(Events, f'cleanup_{_p}', (lambda nm: lambda self: self.events.append(nm) if self.cleanup else None)(f'cleanup_{_p}'))

# `run_cbs` looks event methods up on the class, so each raiser gets its own class:
def raiser(event, exc, when=lambda learn: True, order=0):
    cls = type(f'Raise_{event}', (Callback,), {'order': order, event: lambda self: (_ for _ in ()).throw(exc()) if when(self.learn) else None})
    return cls()

# The events of one batch, written out.
TB = ['before_batch', 'after_pred', 'after_loss', 'before_backward', 'after_backward', 'before_step', 'after_step', 'after_batch']
VB = ['before_batch', 'after_pred', 'after_loss', 'after_batch']
EPOCH = ['before_epoch', 'before_train', *TB, *TB, 'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch']

def fit_events(n_epoch=1, cbs=(), cleanup=False, learn=None):
    learn = learn or make_learner()
    ev = Events(cleanup)
    learn.fit(n_epoch, cbs=[ev, *cbs])
    return ev.events, learn

# ---------------------------------------------------------------------------------------------------------------
# Event order
# ---------------------------------------------------------------------------------------------------------------

def test_events_of_a_two_epoch_fit():
    events, _ = fit_events(2)
    assert events == ['before_fit', *EPOCH, *EPOCH, 'after_fit']

def test_cleanup_events_always_come_last_in_their_phase():
    events, _ = fit_events(1, cleanup=True, learn=make_learner(tiny_data(2, 1, bs=2)))
    tb = TB[:3] + ['before_backward', 'after_backward', 'cleanup_backward', 'before_step', 'after_step', 'cleanup_step',
                   'after_batch', 'cleanup_batch']
    vb = VB + ['cleanup_batch']
    assert events == ['before_fit', 'before_epoch', 'before_train', *tb, 'after_train', 'cleanup_train',
                      'before_validate', *vb, 'after_validate', 'cleanup_validate', 'after_epoch', 'cleanup_epoch',
                      'after_fit', 'cleanup_fit']

CANCEL_CASES = {
    # (event where raised, exception, condition) -> expected events of a 1-epoch fit (2 train batches, 1 valid batch)
    'fit@before_fit': ('before_fit', CancelFitException, None,
        ['before_fit', 'after_cancel_fit', 'after_fit']),
    'fit@after_batch': ('after_batch', CancelFitException, None,
        ['before_fit', 'before_epoch', 'before_train', *TB, 'after_cancel_fit', 'after_fit']),
    'epoch@before_epoch': ('before_epoch', CancelEpochException, None,
        ['before_fit', 'before_epoch', 'after_cancel_epoch', 'after_epoch', 'after_fit']),
    'epoch@after_train': ('after_train', CancelEpochException, None,
        ['before_fit', 'before_epoch', 'before_train', *TB, *TB, 'after_train', 'after_cancel_epoch', 'after_epoch', 'after_fit']),
    'train@before_train': ('before_train', CancelTrainException, None,
        ['before_fit', 'before_epoch', 'before_train', 'after_cancel_train', 'after_train',
         'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'train@before_batch#1': ('before_batch', CancelTrainException, lambda l: l.training and l.iter == 1,
        ['before_fit', 'before_epoch', 'before_train', *TB, 'before_batch', 'after_cancel_train', 'after_train',
         'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'validate@before_validate': ('before_validate', CancelValidateException, None,
        ['before_fit', 'before_epoch', 'before_train', *TB, *TB, 'after_train',
         'before_validate', 'after_cancel_validate', 'after_validate', 'after_epoch', 'after_fit']),
    'batch@before_batch': ('before_batch', CancelBatchException, lambda l: l.training and l.iter == 0,
        ['before_fit', 'before_epoch', 'before_train', 'before_batch', 'after_cancel_batch', 'after_batch', *TB,
         'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'batch@after_pred': ('after_pred', CancelBatchException, lambda l: l.training and l.iter == 0,
        ['before_fit', 'before_epoch', 'before_train', 'before_batch', 'after_pred', 'after_cancel_batch', 'after_batch', *TB,
         'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'batch@after_loss': ('after_loss', CancelBatchException, lambda l: l.training and l.iter == 0,
        ['before_fit', 'before_epoch', 'before_train', 'before_batch', 'after_pred', 'after_loss', 'after_cancel_batch',
         'after_batch', *TB, 'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'batch@valid_after_pred': ('after_pred', CancelBatchException, lambda l: not l.training,
        ['before_fit', 'before_epoch', 'before_train', *TB, *TB, 'after_train', 'before_validate',
         'before_batch', 'after_pred', 'after_cancel_batch', 'after_batch', 'after_validate', 'after_epoch', 'after_fit']),
    'backward@before_backward': ('before_backward', CancelBackwardException, lambda l: l.iter == 0,
        ['before_fit', 'before_epoch', 'before_train', 'before_batch', 'after_pred', 'after_loss', 'before_backward',
         'after_cancel_backward', 'after_backward', 'before_step', 'after_step', 'after_batch', *TB,
         'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
    'step@before_step': ('before_step', CancelStepException, lambda l: l.iter == 0,
        ['before_fit', 'before_epoch', 'before_train', 'before_batch', 'after_pred', 'after_loss', 'before_backward',
         'after_backward', 'before_step', 'after_cancel_step', 'after_step', 'after_batch', *TB,
         'after_train', 'before_validate', *VB, 'after_validate', 'after_epoch', 'after_fit']),
}

@pytest.mark.parametrize('case', list(CANCEL_CASES))
def test_cancel_event_order(case):
    event, exc, when, want = CANCEL_CASES[case]
    learn = make_learner()
    n_cbs = len(learn.cbs)
    events, learn = fit_events(1, cbs=[raiser(event, exc, when or (lambda l: True))], learn=learn)
    assert events == want
    assert len(learn.cbs) == n_cbs and not learn.training

def test_cancel_fit_is_not_caught_by_inner_phases():
    "A CancelFitException raised in a batch ends the fit: no more batches, epochs or validation."
    events, learn = fit_events(3, cbs=[raiser('after_loss', CancelFitException)])
    assert events.count('before_batch') == 1 and events.count('before_epoch') == 1 and learn.train_iter == 0

def test_cancel_backward_skips_backward_and_the_step_changes_nothing():
    learn = make_learner()
    w = learn.model.weight.detach().clone()
    learn.fit(1, cbs=[raiser('before_backward', CancelBackwardException)])
    assert torch.equal(learn.model.weight, w)    # no gradients were ever computed, so SGD moved nothing
    assert learn.model.weight.grad is None

def test_cancel_step_skips_step_and_zero_grad_so_gradients_accumulate():
    "Gradient accumulation: CancelStep in before_step keeps the weights and sums the gradients."
    dls = tiny_data(4, 2, bs=2)
    learn = make_learner(dls)
    w = learn.model.weight.detach().clone()
    learn.fit(1, cbs=[raiser('before_step', CancelStepException)], valid=False)
    assert torch.equal(learn.model.weight, w)
    ref = copy.deepcopy(learn.model); ref.zero_grad()
    for xb, yb in dls[0]: F.cross_entropy(ref(xb), yb).backward()
    torch.testing.assert_close(learn.model.weight.grad, ref.weight.grad)

# ---------------------------------------------------------------------------------------------------------------
# Temporary callbacks, errors, interrupts
# ---------------------------------------------------------------------------------------------------------------

class Cleaner(Callback):
    def before_fit(self): self.cleaned = False
    def cleanup_fit(self): self.cleaned = True

@pytest.mark.parametrize('exc', [RuntimeError, KeyboardInterrupt])
def test_temporary_callbacks_removed_and_cleanup_runs_after_a_failed_fit(exc):
    learn = make_learner(cbs=[ProgressCallback()])
    user_logger = learn.logger
    before = list(learn.cbs)
    boom, cleaner, ev = raiser('after_loss', exc, lambda l: l.iter == 1), Cleaner(), Events(cleanup=True)
    with pytest.raises(exc): learn.fit(2, cbs=[boom, cleaner, ev])
    assert learn.cbs == before and not any(c in learn.cbs for c in (boom, cleaner, ev))
    assert cleaner.cleaned and ev.events[-2:] == ['cleanup_epoch', 'cleanup_fit'] and 'after_fit' not in ev.events
    assert learn.logger is user_logger              # ProgressCallback gave the user's logger back
    assert not hasattr(learn, 'raise_after_loss') and not learn.training
    learn.logger = None
    learn.fit(1)                                    # and the learner still works

def test_bad_callback_error_leaves_callbacks_as_they_were():
    learn = make_learner()
    before = list(learn.cbs)
    with pytest.raises(TypeError, match='pass an instance'): learn.fit(1, cbs=[Events(), Events])
    assert learn.cbs == before

# ---------------------------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------------------------

def test_validation_runs_in_eval_mode_without_gradients_and_training_the_opposite():
    class Mode(Callback):
        def before_fit(self): self.seen = set()
        def after_pred(self): self.seen.add((self.training, self.model.training, torch.is_grad_enabled(), self.pred.requires_grad))
    m = Mode(); make_learner(model=nn.Sequential(nn.Linear(5, 4), nn.Dropout(0.5), nn.Linear(4, 2))).fit(2, cbs=[m])
    assert m.seen == {(True, True, True, True), (False, False, False, False)}

# ---------------------------------------------------------------------------------------------------------------
# Parity with a hand-written loop
# ---------------------------------------------------------------------------------------------------------------

def test_parity_with_hand_written_loop_identical_weights():
    "Same seed, model, data (shuffled by a seeded generator), SGD with momentum: Learner.fit == the plain loop, exactly."
    def data():
        g = torch.Generator().manual_seed(0)
        x = torch.randn(40, 5, generator=g); y = (x[:, 0] + x[:, 1] > 0).long()
        return (DataLoader(TensorDataset(x[:30], y[:30]), 8, shuffle=True, generator=torch.Generator().manual_seed(3)),
                DataLoader(TensorDataset(x[30:], y[30:]), 4))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    m1, m2 = copy.deepcopy(model), copy.deepcopy(model)
    opt_func = partial(torch.optim.SGD, momentum=0.9, weight_decay=1e-4)

    torch.manual_seed(1)   # dropout masks come from the global generator: same state for both runs
    learn = quiet(Learner(m1, data(), nn.CrossEntropyLoss(), lr=0.1, opt_func=opt_func, metrics=[Accuracy()]))
    learn.fit(3)

    torch.manual_seed(1)
    tdl, vdl = data()
    opt = opt_func(m2.parameters(), lr=0.1)
    for epoch in range(3):
        m2.train()
        for xb, yb in tdl:
            loss = nn.CrossEntropyLoss()(m2(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad()
        m2.eval()
        with torch.no_grad():
            for xb, yb in vdl: nn.CrossEntropyLoss()(m2(xb), yb)
    for (n, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), f'{n} differs from the hand-written loop'
    assert not torch.equal(m1[0].weight, model[0].weight)   # and it did train

# ---------------------------------------------------------------------------------------------------------------
# Bad input: a clear error, before any weight changes
# ---------------------------------------------------------------------------------------------------------------

def _weights(model): return [p.detach().clone() for p in model.parameters()]
def _same(model, ws): return all(torch.equal(p, w) for p, w in zip(model.parameters(), ws))

def _dl(x, y, bs=2, **kw): return DataLoader(TensorDataset(x, y), bs, **kw)

BAD_FITS = {
    # name -> (learner kwargs, fit kwargs, exception, message fragment)
    'no loss and none can be inferred': (dict(model=nn.Linear(5, 1), loss_func=None,
        dls=(_dl(torch.randn(4, 5), torch.randn(4, 1)),) * 2), {}, ValueError, 'no loss_func given'),
    'float labels for cross-entropy': (dict(dls=(_dl(torch.randn(4, 5), torch.rand(4)),) * 2), {}, ValueError, 'y.long()'),
    'more classes than outputs': (dict(model=nn.Linear(5, 3), dls=(_dl(torch.randn(4, 5), torch.tensor([4, 0, 1, 2])),) * 2),
        {}, ValueError, 'outputs 3 classes'),
    'output shape vs loss (MSE broadcast)': (dict(model=nn.Linear(5, 1), loss_func=nn.MSELoss(),
        dls=(_dl(torch.randn(4, 5), torch.randn(4)),) * 2), {}, ValueError, '(2, 1) and targets (2,)'),
    'batch size mismatch': (dict(model=nn.Sequential(nn.Linear(5, 4), nn.Flatten(0)), loss_func=nn.MSELoss(),
        dls=(_dl(torch.randn(4, 5), torch.randn(4, 4)),) * 2), {}, ValueError, 'different shapes'),
    'loss not reduced': (dict(loss_func=nn.CrossEntropyLoss(reduction='none')), {}, ValueError, 'not a single number'),
    'lr = 0 in fit': ({}, dict(lr=0), ValueError, 'lr must be a positive'),
    'lr < 0 in fit': ({}, dict(lr=-0.1), ValueError, 'lr must be a positive'),
    'lr nan in fit': ({}, dict(lr=float('nan')), ValueError, 'lr must be a positive'),
    'n_epoch 0': ({}, dict(n_epoch=0), ValueError, 'n_epoch must be'),
    'n_epoch float': ({}, dict(n_epoch=1.5), ValueError, 'n_epoch must be'),
    'non-callback in fit cbs': ({}, dict(cbs=['x']), TypeError, 'Callback instances'),
    'callback class in fit cbs': ({}, dict(cbs=[Recorder]), TypeError, 'pass an instance: Recorder()'),
    'empty train DataLoader': (dict(dls=(_dl(torch.randn(1, 5), torch.zeros(1).long(), drop_last=True),
        _dl(torch.randn(2, 5), torch.zeros(2).long()))), {}, ValueError, 'train DataLoader has no batches'),
    'empty valid DataLoader': (dict(dls=(_dl(torch.randn(2, 5), torch.zeros(2).long()),
        _dl(torch.randn(0, 5), torch.zeros(0).long()))), {}, ValueError, 'valid DataLoader has no batches'),
    'not a metric': (dict(metrics=[len]), {}, TypeError, 'nor a Metric'),
}

@pytest.mark.parametrize('case', list(BAD_FITS))
def test_bad_input_fails_clearly_before_any_weight_changes(case):
    lkw, fkw, exc, msg = BAD_FITS[case]
    lkw = dict(lkw); model = lkw.pop('model', nn.Linear(5, 2))
    learn = make_learner(lkw.pop('dls', None), model, loss_func=lkw.pop('loss_func', F.cross_entropy), **lkw)
    ws, cbs, lr = _weights(model), list(learn.cbs), learn.lr
    with pytest.raises(exc) as e: learn.fit(**{'n_epoch': 1, **fkw})
    assert msg in str(e.value), str(e.value)
    assert _same(model, ws) and learn.cbs == cbs and learn.lr == lr and learn.train_iter == 0

@pytest.mark.parametrize('kw,exc,msg', [
    (dict(dls=[1]), TypeError, 'pair (train_dl, valid_dl)'),
    (dict(dls=[1, 2, 3]), TypeError, 'of length 3'),
    (dict(dls=None), TypeError, 'pair'),
    (dict(lr=0), ValueError, 'lr must be a positive'),
    (dict(lr=-1), ValueError, 'lr must be a positive'),
    (dict(cbs=[object()]), TypeError, 'Callback instances'),
    (dict(model='not a model'), TypeError, 'torch.nn.Module'),
])
def test_bad_learner_arguments(kw, exc, msg):
    args = dict(model=nn.Linear(5, 2), dls=tiny_data(), loss_func=F.cross_entropy) | kw
    with pytest.raises(exc, match=None) as e: Learner(**args)
    assert msg in str(e.value)

# ---------------------------------------------------------------------------------------------------------------
# A custom Metric and callback as a practitioner writes them
# ---------------------------------------------------------------------------------------------------------------

class F1Score(Metric):
    def __init__(self):
        super().__init__()
        self.tp = self.fp = self.fn = 0

    def accumulate(self, learn):
        pred = learn.pred.argmax(dim=-1)
        y = learn.yb
        self.tp += ((pred == 1) & (y == 1)).sum().item()
        self.fp += ((pred == 1) & (y == 0)).sum().item()
        self.fn += ((pred == 0) & (y == 1)).sum().item()

    @property
    def value(self):
        precision = self.tp / (self.tp + self.fp) if (self.tp + self.fp) > 0 else 0
        recall = self.tp / (self.tp + self.fn) if (self.tp + self.fn) > 0 else 0
        return 2 * precision * recall / (precision + recall) if (precision + recall) > 0 else 0

class LRWarmup(Callback):
    def __init__(self, warmup_epochs=5):
        super().__init__()
        self.warmup_epochs = warmup_epochs

    def before_fit(self):
        self.start_lr = self.learn.lr / self.warmup_epochs

    def before_batch(self):
        if self.epoch < self.warmup_epochs and self.train:
            # Linear warmup
            lr = self.start_lr + (self.learn.lr - self.start_lr) * (
                self.epoch * len(self.dl) + self.iter) / (self.warmup_epochs * len(self.dl))
            for pg in self.opt.param_groups:
                pg['lr'] = lr

def test_seed000_f1score_and_lrwarmup_run_against_the_package():
    dls = tiny_data(16, 12, bs=4)
    learn = make_learner(dls, nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)), lr=0.2,
                         metrics=[Accuracy(), F1Score()], cbs=[ProgressCallback(), LRWarmup(warmup_epochs=2)])
    learn.fit(1)
    row = learn.recorder.values[-1]
    assert list(row) == ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'f1_score', 'time']
    p, t = learn.get_preds()
    pr = p.argmax(1); tp = ((pr == 1) & (t == 1)).sum().item()
    fp, fn = ((pr == 1) & (t == 0)).sum().item(), ((pr == 0) & (t == 1)).sum().item()
    want = 2 * tp / (2 * tp + fp + fn) if tp else 0
    assert math.isclose(row['f1_score'], want)
    learn.recorder.reset(); learn.fit(3)
    lrs = learn.recorder.lrs          # 4 batches per epoch; warmup over 2 epochs from 0.1 to 0.2, then 0.2
    want = [0.1 + 0.1 * i / 8 for i in range(8)]
    assert all(math.isclose(a, b) for a, b in zip(lrs[:8], want)) and lrs[8:] == [want[-1]] * 4

# ---------------------------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------------------------

def _trained(tmp_path, model=None, opt_func=torch.optim.Adam):
    learn = make_learner(model=model, opt_func=opt_func, lr=0.01, path=tmp_path)
    learn.fit(1)
    return learn

def test_save_load_round_trip_with_optimizer_state(tmp_path):
    learn = _trained(tmp_path)
    f = learn.save('m')
    assert f == tmp_path/'models'/'m.pth' and [p.name for p in f.parent.iterdir()] == ['m.pth']
    sd = copy.deepcopy(learn.model.state_dict()); osd = copy.deepcopy(learn.opt.state_dict())
    other = make_learner(opt_func=torch.optim.Adam, path=tmp_path)
    assert other.opt is None
    other.load('m')
    for k, v in sd.items(): assert torch.equal(other.model.state_dict()[k], v)
    torch.testing.assert_close(other.opt.state_dict()['state'], osd['state'])
    other.load(f, with_opt=False)   # a path works too

def _snapshot(learn):
    return ({k: v.clone() for k, v in learn.model.state_dict().items()},
            copy.deepcopy(learn.opt.state_dict()) if learn.opt is not None else None)

def _unchanged(learn, snap):
    sd, osd = snap
    assert all(torch.equal(learn.model.state_dict()[k], v) for k, v in sd.items())
    if osd is None: assert learn.opt is None
    else: torch.testing.assert_close(learn.opt.state_dict(), osd)

@pytest.mark.parametrize('fitted', [True, False])
def test_load_of_bad_checkpoints_leaves_the_learner_unchanged(tmp_path, fitted):
    src = _trained(tmp_path); src.save('good')
    bigger = _trained(tmp_path, model=nn.Linear(5, 3)); bigger.save('shape')
    torch.save({'model': {'weight': torch.zeros(2, 5)}}, tmp_path/'models'/'missing.pth')
    torch.save({'model': src.model.state_dict(), 'opt': {'state': {}, 'param_groups': [{'params': [0]}, {'params': [1]}]}},
               tmp_path/'models'/'badopt.pth')
    (tmp_path/'models'/'corrupt.pth').write_bytes(b'not a checkpoint at all')
    good = (tmp_path/'models'/'good.pth').read_bytes()
    (tmp_path/'models'/'truncated.pth').write_bytes(good[:len(good)//2])
    torch.save([1, 2, 3], tmp_path/'models'/'list.pth')

    learn = make_learner(opt_func=torch.optim.Adam, path=tmp_path)
    if fitted: learn.fit(1)
    snap = _snapshot(learn)
    for name, exc, msg in [('shape', ValueError, 'weight: saved (3, 5) vs model (2, 5)'), ('missing', ValueError, "missing ['bias']"),
                           ('badopt', ValueError, 'optimizer state'), ('corrupt', ValueError, 'not a readable checkpoint'),
                           ('truncated', ValueError, 'not a readable checkpoint'), ('list', ValueError, 'no model state dict'),
                           ('nope', FileNotFoundError, 'no checkpoint at')]:
        with pytest.raises(exc) as e: learn.load(name)
        assert msg in str(e.value), (name, str(e.value))
        assert 'Fix' in str(e.value)
        _unchanged(learn, snap)

def test_failed_save_keeps_the_previous_file(tmp_path):
    learn = _trained(tmp_path)
    f = learn.save('m'); before = f.read_bytes()
    from learner_course.persist import atomic_save
    with pytest.raises(Exception): atomic_save({'x': lambda: 0}, f)
    assert f.read_bytes() == before and [p.name for p in f.parent.iterdir()] == ['m.pth']

# ---------------------------------------------------------------------------------------------------------------
# get_preds / predict
# ---------------------------------------------------------------------------------------------------------------

def test_get_preds_and_predict_shapes_and_state():
    learn = make_learner(tiny_data(4, 6, bs=4), nn.Sequential(nn.Linear(5, 3), nn.Dropout(0.5)), metrics=[Accuracy()])
    p, t = learn.get_preds()              # before any fit: works, and runs in eval mode
    assert p.shape == (6, 3) and t.shape == (6,) and t.dtype == torch.int64 and not p.requires_grad
    learn.fit(1); learn.model.train()
    p2, _ = learn.get_preds()
    assert learn.model.training           # mode restored
    torch.testing.assert_close(p2, learn.model.eval()(learn.dls.valid.dataset.tensors[0]))
    x = torch.randn(7, 5)
    assert learn.predict(x).shape == (7, 3)
    only_x = DataLoader(TensorDataset(torch.randn(5, 5)), 2)
    preds = learn.get_preds(dl=only_x)
    assert isinstance(preds, torch.Tensor) and preds.shape == (5, 3)
    with pytest.raises(TypeError, match='predict takes a batch'): learn.predict([1, 2])

def test_summary_names_a_single_layer_model_by_its_class():
    lines = make_learner().summary().split('\n')
    assert lines[2].split()[:2] == ['Linear', 'Linear'] and 'Total params: 12' in lines


def test_callback_names_split_acronyms():
    "A callback is reachable as learn.<snake_case name>; acronyms split like words (CSVLogger -> csv_logger)."
    class CSVThingCallback(Callback): pass
    learn = make_learner(cbs=[CSVThingCallback()])
    assert isinstance(learn.csv_thing, CSVThingCallback)

def test_progress_callback_puts_back_a_user_logger(capsys):
    "ProgressCallback shows rows in its table during fit and hands logging back to the user's logger afterwards."
    rows = []
    learn = make_learner(cbs=[ProgressCallback(mode='terminal')])
    learn.logger = rows.append
    learn.fit(1)
    assert learn.logger == rows.append and rows == []     # during the fit the progress table had the rows
    learn.remove_cbs([learn.progress]); learn.fit(1)
    assert len(rows) == 1 and 'valid_loss' in rows[0]

class _TwoHeads(nn.Module):
    "A model with two outputs, as a dict (`as_dict`) or a tuple: class scores and a regression value (unit-test model)."
    def __init__(self, as_dict=True):
        super().__init__(); self.body, self.reg, self.as_dict = nn.Linear(5, 2), nn.Linear(5, 1), as_dict
    def forward(self, x):
        out = (self.body(x), self.reg(x).squeeze(1))
        return {'logits': out[0], 'value': out[1]} if self.as_dict else out

@pytest.mark.parametrize('as_dict', [True, False])
def test_get_preds_keeps_the_structure_of_multi_output_models(as_dict):
    "A model returning a dict (or tuple) of tensors gets a dict (or tuple) of tensors over the whole set back."
    def loss(out, y): return F.cross_entropy(out['logits'] if as_dict else out[0], y)
    learn = make_learner(dls=tiny_data(n_train=4, n_valid=6), model=_TwoHeads(as_dict), loss_func=loss, lr=0.1)
    learn.fit(1)
    preds, targs = learn.get_preds()
    x_valid = learn.dls.valid.dataset.tensors[0]
    with torch.no_grad(): ref = learn.model(x_valid)
    if as_dict:
        assert set(preds) == {'logits', 'value'} and preds['logits'].shape == (6, 2) and preds['value'].shape == (6,)
        assert torch.allclose(preds['logits'], ref['logits'])
    else:
        assert isinstance(preds, tuple) and preds[0].shape == (6, 2) and preds[1].shape == (6,)
        assert torch.allclose(preds[1], ref[1])
    assert targs.shape == (6,)

def test_get_preds_names_the_fix_for_outputs_it_cannot_join():
    class Strings(nn.Module):
        def forward(self, x): return 'not a tensor'
    learn = make_learner(model=Strings(), loss_func=lambda out, y: torch.tensor(0., requires_grad=True))
    with pytest.raises(TypeError, match='Fix: make the model return a tensor'): learn.get_preds()

def test_recorder_reads_device_losses_in_groups_with_the_same_history(monkeypatch):
    "On a GPU a read waits for the device: Recorder keeps losses there and reads `read_every` at a time (device path run on the CPU)."
    import learner_course.callbacks as cbm
    def fit(device_like):
        if device_like: monkeypatch.setattr(cbm, '_read_is_free', lambda t: False)
        learn = make_learner(dls=tiny_data(n_train=40, bs=2), lr=0.3)
        rec = learn.recorder; rec.read_every = 7
        waiting, mid = [], []
        class Probe(Callback):
            order = 100   # after the Recorder
            def after_batch(self):
                if not self.learn.training: return
                waiting.append(len(rec._waiting))
                if self.learn.train_iter == 30: mid.append(rec.state_dict()['losses'])   # a mid-epoch checkpoint sees every loss
        learn.fit(2, cbs=[Probe()])
        monkeypatch.undo()
        return rec, waiting, mid
    cpu, cpu_waiting, cpu_mid = fit(False)
    dev, dev_waiting, dev_mid = fit(True)
    assert set(cpu_waiting) == {0}                                   # the CPU reads each loss at once
    assert max(dev_waiting) == 6 and dev_waiting[:8] == [1, 2, 3, 4, 5, 6, 0, 1]   # 7 at a time
    assert dev._waiting == []                                        # read at the end of each epoch
    assert dev.losses == cpu.losses and all(isinstance(v, float) for v in dev.losses) and len(dev.losses) == 40
    assert dev.epoch_iters == cpu.epoch_iters == [20, 40] and dev_mid == cpu_mid and len(dev_mid[0]) == 31
    r2 = Recorder(); r2.load_state_dict(dev.state_dict()); assert r2.losses == cpu.losses

@pytest.mark.parametrize('every', [0., 3600.])
def test_progress_bar_reads_the_loss_at_most_every_comment_every_seconds(every):
    "The bar's loss comment is refreshed at most every `comment_every` seconds: no device wait after every batch on a GPU."
    learn = make_learner(dls=tiny_data(n_train=40, bs=2), cbs=[ProgressCallback(mode='terminal')])
    learn.progress.comment_every = every
    learn.fit(1, valid=False)                                  # the last bar is then the training bar
    shown = learn.recorder.losses[-1 if every == 0 else 0]     # every batch: the last loss; once an hour: the first
    assert learn.progress.pbar.comment == f'loss {shown:.3f}'

def test_each_training_bar_shows_the_loss_from_its_first_batch():
    "A new epoch's bar does not wait `comment_every` seconds for its first loss, however short the epoch before."
    learn = make_learner(dls=tiny_data(n_train=8, bs=2), cbs=[ProgressCallback(mode='terminal')])
    learn.progress.comment_every = 3600
    learn.fit(2, valid=False)
    assert learn.progress.pbar.comment == f'loss {learn.recorder.losses[4]:.3f}'   # the first batch of epoch 2
