"""Nothing silent: the ordinary uses that used to go wrong quietly or crash far from their cause.

Every test uses tiny RANDOM TEST DATA (a few samples of 5 features, 2 classes), so the file runs in seconds.
"""
import math, warnings
from functools import partial
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.events import (Callback, CancelBatchException, CancelEpochException, CancelFitException,
                                   MisplacedCancelError)
from learner_course.learner import Learner, TrainCB
from learner_course.metrics import Accuracy, MetricsCB
from learner_course.callbacks import Recorder, DeviceCB
from learner_course.progress import ProgressCallback
from learner_course.guards import NonFiniteStop, NonFiniteError
from learner_course.rng import get_rng_state

def data(n=16, bs=4, seed=0, shuffle=True, labels=None, x=None):
    "Random test data: x ~ N(0, 1), 5 features, label (x[:, 0] > 0)."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g) if x is None else x
    y = (x[:, 0] > 0).long() if labels is None else labels
    return DataLoader(TensorDataset(x, y), bs, shuffle=shuffle, generator=torch.Generator().manual_seed(seed + 1))

def learner(**kw):
    torch.manual_seed(0)
    kw = dict(model=nn.Linear(5, 2), dls=(data(), data(8, shuffle=False)), loss_func=F.cross_entropy, logger=None) | kw
    return Learner(**kw)

def weights(m): return [p.detach().clone() for p in m.parameters()]
def same(m, ws): return all(torch.equal(p, w) for p, w in zip(m.parameters(), ws))

# --- 1. Callbacks and metrics -----------------------------------------------------------------------------------

def test_one_callback_or_metric_needs_no_list():
    learn = learner(cbs=DeviceCB('cpu'), metrics=Accuracy())
    learn.fit(1, cbs=ProgressCallback(mode='lines'))
    assert 'accuracy' in learn.epoch_metrics
    assert sum(isinstance(c, DeviceCB) for c in learn.cbs) == 1

class Marker(Callback):
    def after_batch(self): self.n = getattr(self, 'n', 0) + 1

@pytest.mark.parametrize('bad,msg', [
    (Marker, 'pass an instance: Marker()'),
    (print, 'the function'),
    ('progress', 'the str'),
    ([Marker, Marker()], 'pass an instance'),
])
def test_bad_callbacks_are_refused_at_the_call(bad, msg):
    with pytest.raises(TypeError, match=msg.replace('(', r'\(').replace(')', r'\)')): learner(cbs=bad)
    learn = learner()
    with pytest.raises(TypeError): learn.fit(1, cbs=bad)

def test_the_same_instance_twice_is_refused():
    m = Marker()
    with pytest.raises(ValueError, match='twice'): learner(cbs=[m, m])
    learn = learner(cbs=[m])
    with pytest.raises(ValueError): learn.fit(1, cbs=[m])     # attached, and again for the fit

def test_a_class_where_a_metric_instance_is_needed():
    with pytest.raises(TypeError, match=r'pass an instance: Accuracy\(\)'): learner(metrics=[Accuracy]).fit(1)

def test_two_trainers_or_two_progress_bars_say_so():
    with pytest.raises(ValueError, match='same job'): learner(cbs=[TrainCB(), TrainCB()])
    with pytest.raises(ValueError, match='same job'): learner(cbs=[ProgressCallback(), ProgressCallback()])

def test_a_temporary_trainer_stands_in_for_the_attached_one_for_one_fit():
    learn = learner(); t0 = learn.trainer
    class Counting(TrainCB):
        def step(self): self.steps = getattr(self, 'steps', 0) + 1; super().step()
    t = Counting(); learn.fit(1, cbs=[t])
    assert t.steps == 4 and learn.trainer is t0 and t not in learn.cbs and t0 in learn.cbs

def test_a_temporary_callback_never_removes_or_shadows_an_attached_ones_name():
    learn = learner(); rec = learn.recorder
    r2 = Recorder(); learn.fit(1, cbs=[r2])
    assert learn.recorder is rec and len(rec.losses) == 4 and len(r2.losses) == 4

@pytest.mark.parametrize('name,near', [('after_predict', 'after_pred'), ('before_valid', 'before_validate'),
                                        ('after_batches', 'after_batch'), ('cleanup_fitt', 'cleanup_fit')])
def test_a_misspelt_event_gets_the_nearest_event(name, near):
    cls = type('Typo', (Callback,), {name: lambda self: None})
    with pytest.raises(AttributeError, match=near): learner(cbs=[cls()])

@pytest.mark.parametrize('name', ['predict', 'get_loss', 'backward', 'step', 'zero_grad'])
def test_a_step_method_on_a_callback_that_is_not_a_trainer_is_refused(name):
    cls = type('Helper', (Callback,), {name: lambda self: None})
    with pytest.raises(AttributeError, match='only a trainer callback'): learner(cbs=[cls()])

def test_helper_methods_are_free():
    class Plots(Callback):
        def plot_things(self): pass
        def color_dim(self): pass
        def after_fit(self): pass
    learner(cbs=[Plots()]).fit(1)

def test_assigning_learner_state_on_a_callback_warns_with_the_fix():
    class Sets(Callback):
        def after_batch(self): self.epoch = 99
    learn = learner(cbs=[Sets()])
    with pytest.warns(UserWarning, match=r'self\.learn\.epoch'): learn.fit(1)
    assert learn.epoch == 0

def test_callbacks_in_the_style_that_passes_the_learner():
    class Style(Callback):
        def before_fit(self, learn): self.seen = learn
        def after_batch(self, learn): self.n = getattr(self, 'n', 0) + 1
    s = Style(); learn = learner(); learn.fit(1, cbs=[s])
    assert s.seen is learn and s.n == 6

def test_two_metrics_with_one_column_name():
    from torcheval.metrics import MulticlassAccuracy
    with pytest.raises(ValueError, match="share the column 'accuracy'"): learner(metrics=[Accuracy(), MulticlassAccuracy()]).fit(1)
    learn = learner(metrics={'acc': Accuracy(), 'acc2': MulticlassAccuracy()}); learn.fit(1)
    assert learn.epoch_metrics['acc'] == learn.epoch_metrics['acc2']

def test_torchmetrics_and_torcheval_metrics_alike():
    tm = pytest.importorskip('torchmetrics')
    from torcheval.metrics import MulticlassAccuracy as TE
    learn = learner(metrics={'ours': Accuracy(), 'te': TE(), 'tm_micro': tm.classification.MulticlassAccuracy(num_classes=2, average='micro'),
                             'tm_macro': tm.classification.MulticlassAccuracy(num_classes=2, average='macro')})
    learn.fit(1)
    r = learn.epoch_metrics
    assert math.isclose(r['ours'], r['te']) and math.isclose(r['ours'], r['tm_micro'], rel_tol=1e-6)
    assert 0 <= r['tm_macro'] <= 1

def test_a_hand_written_optimizer_without_param_groups_trains_with_the_defaults():
    class PlainSGD:
        def __init__(self, params, lr): self.params, self.lr = list(params), lr
        def step(self):
            with torch.no_grad():
                for p in self.params: p -= self.lr * p.grad
        def zero_grad(self):
            for p in self.params: p.grad = None
    learn = learner(opt_func=PlainSGD, lr=0.3); w = weights(learn.model)
    learn.fit(2, lr=0.2)
    assert not same(learn.model, w) and learn.recorder.lrs == [0.2] * 8 and learn.opt.lr == 0.2

# --- 2. Subclassing ---------------------------------------------------------------------------------------------

class MomentumLearner(Learner):
    "fast.ai lesson 16's subclass: the step's methods on the Learner; momentum by scaling gradients instead of zeroing."
    def __init__(self, *a, mom=0.85, **kw): self.mom = mom; super().__init__(*a, **kw)
    def predict(self): self.preds = self.model(self.batch[0])
    def get_loss(self): self.loss = self.loss_func(self.preds, self.batch[1])
    def backward(self): self.loss.backward()
    def step(self): self.opt.step()
    def zero_grad(self):
        with torch.no_grad():
            for p in self.model.parameters(): p.grad *= self.mom

def test_a_learner_subclass_trains_like_a_hand_written_momentum_loop():
    dl = data(16, 4, shuffle=False)
    torch.manual_seed(0); m1 = nn.Linear(5, 2)
    learn = MomentumLearner(m1, (dl, dl), F.cross_entropy, lr=0.1, logger=None); learn.fit(2, valid=False)
    torch.manual_seed(0); m2 = nn.Linear(5, 2); opt = torch.optim.SGD(m2.parameters(), lr=0.1)
    for _ in range(2):
        for x, y in dl:
            F.cross_entropy(m2(x), y).backward(); opt.step()
            with torch.no_grad():
                for p in m2.parameters(): p.grad *= 0.85
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))

def test_predict_with_a_batch_is_inference_even_on_such_a_subclass():
    dl = data(8, 4, shuffle=False)
    learn = MomentumLearner(nn.Linear(5, 2), (dl, dl), F.cross_entropy, logger=None)
    out = learn.predict(torch.randn(3, 5))
    assert out.shape == (3, 2) and not out.requires_grad

def test_a_subclass_overriding_only_some_step_methods_keeps_the_rest_from_the_trainer():
    class NoStep(Learner):
        def step(self): pass              # a frozen learner: no optimizer step
    learn = NoStep(nn.Linear(5, 2), (data(), data(8)), F.cross_entropy, logger=None); w = weights(learn.model)
    learn.fit(1)
    assert same(learn.model, w) and len(learn.recorder.losses) == 4

# --- 3. Any batch structure ---------------------------------------------------------------------------------------

class TwoInputs(nn.Module):
    def __init__(self): super().__init__(); self.a, self.b = nn.Linear(3, 2), nn.Linear(2, 2)
    def forward(self, x1, x2): return self.a(x1) + self.b(x2)

def test_batches_of_two_inputs_and_a_target():
    g = torch.Generator().manual_seed(0)
    x1, x2 = torch.randn(12, 3, generator=g), torch.randn(12, 2, generator=g); y = (x1[:, 0] > 0).long()
    dl = DataLoader(TensorDataset(x1, x2, y), 4)
    learn = Learner(TwoInputs(), (dl, dl), F.cross_entropy, logger=None, cbs=DeviceCB('cpu')); learn.fit(1)
    p, t = learn.get_preds(); assert p.shape == (12, 2) and torch.equal(t, y)
    assert learn.predict((x1[:2], x2[:2])).shape == (2, 2)

def test_dict_batches_with_the_target_under_a_named_key():
    class KW(nn.Module):
        def __init__(self): super().__init__(); self.lin = nn.Linear(3, 2)
        def forward(self, features): return self.lin(features)
    x = torch.randn(8, 3); y = (x[:, 0] > 0).long()
    batches = [{'features': x[i:i+4], 'target': y[i:i+4]} for i in (0, 4)]
    learn = Learner(KW(), (batches, batches), F.cross_entropy, logger=None, target_key='target'); learn.fit(1)
    p, t = learn.get_preds(); assert p.shape == (8, 2) and torch.equal(t, y)
    with pytest.raises(ValueError, match="target_key='labels'"):
        Learner(KW(), (batches, batches), F.cross_entropy).fit(1)     # default key 'labels' is not there: named

def test_n_inp_for_a_tuple_batch_without_target():
    dl = DataLoader(TensorDataset(torch.randn(6, 3), torch.randn(6, 2)), 3)
    learn = Learner(TwoInputs(), (dl, dl), F.cross_entropy, n_inp=2, logger=None)
    assert learn.get_preds().shape == (6, 2)

# --- 4. Data checked before the first step ----------------------------------------------------------------------

def test_datasets_given_as_loaders_are_refused_at_construction():
    ds = TensorDataset(torch.randn(4, 5), torch.zeros(4).long())
    with pytest.raises(TypeError, match='Dataset: iterating it gives single samples'): Learner(nn.Linear(5, 2), (ds, ds))

@pytest.mark.parametrize('case,valid_labels,msg', [
    ('label out of range in the validation set', torch.tensor([0, 1, 5, 1]), 'validation loader: labels go up to 5'),
    ('float labels in the validation set', torch.tensor([0., 1., 0., 1.]), 'validation loader: labels are float32'),
])
def test_a_validation_problem_is_found_before_any_training(case, valid_labels, msg):
    learn = learner(dls=(data(), data(4, shuffle=False, labels=valid_labels)))
    ws, rng, gen = weights(learn.model), torch.get_rng_state(), learn.dls.train.generator.get_state()
    with pytest.raises(ValueError, match=msg): learn.fit(1)
    assert same(learn.model, ws) and learn.opt is None and learn.train_iter == 0
    assert torch.equal(torch.get_rng_state(), rng) and torch.equal(learn.dls.train.generator.get_state(), gen)

def test_non_finite_inputs_are_a_data_problem():
    x = torch.randn(16, 5); x[3, 2] = float('inf')
    first = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), 4)               # in the first batch: found before training
    with pytest.raises(ValueError, match='a data problem, not a training one'): learner(dls=(first, data(8))).fit(1)
    later = DataLoader(TensorDataset(x.roll(8, 0), (x[:, 0] > 0).long()), 4)    # in a later batch: the stop says so
    with pytest.raises(NonFiniteError, match='a data problem, not a training one'): learner(dls=(later, data(8))).fit(1)

class Flat3(nn.Module):
    "A model with a wrong reshape: it mixes the samples of a batch (random-data unit test)."
    def __init__(self): super().__init__(); self.lin = nn.Linear(15, 2)
    def forward(self, x): return self.lin(x.reshape(-1, 15))

@pytest.mark.parametrize('case,model,labels,loss', [
    ('fine', lambda: nn.Linear(5, 2), None, F.cross_entropy),
    ('a label out of range, only at sample 40', lambda: nn.Linear(5, 2), 'late5', F.cross_entropy),
    ('a negative label, only at sample 40', lambda: nn.Linear(5, 2), 'late-1', F.cross_entropy),
    ('float labels', lambda: nn.Linear(5, 2), 'float', F.cross_entropy),
    ('a reshape that mixes samples', Flat3, None, F.cross_entropy),
    ('an element-wise loss that would broadcast', lambda: nn.Linear(5, 1), 'float', nn.MSELoss()),
    ('a loss that is not reduced', lambda: nn.Linear(5, 2), None, nn.CrossEntropyLoss(reduction='none')),
])
def test_the_first_batch_check_of_a_few_samples_gives_the_whole_batchs_verdict(monkeypatch, case, model, labels, loss):
    "On a batch of 48 the check runs 8 samples through the model; its verdict and message equal the whole batch's."
    import learner_course.guards as guards
    x = torch.randn(48, 5, generator=torch.Generator().manual_seed(0)); y = (x[:, 0] > 0).long()
    if labels == 'float': y = y.float()
    elif labels is not None: y[40] = int(labels[4:])
    dl = DataLoader(TensorDataset(x, y), 48)
    seen = []
    class Seen(nn.Module):   # the check hides forward hooks, so the model itself notes how many samples it gets
        def __init__(self, m): super().__init__(); self.m = m
        def forward(self, x): seen.append(x.shape[0]); return self.m(x)
    def verdict(head):
        monkeypatch.setattr(guards, 'CHECK_SAMPLES', head)
        torch.manual_seed(0); learn = Learner(Seen(model()), (dl, dl), loss, logger=None)
        try: guards.check_batch(learn, next(iter(dl)), 'training'); return 'ok'
        except Exception as e: return f'{type(e).__name__}: {e}'
    quick = verdict(8)
    if case == 'fine': assert seen == [8], seen   # only the few samples went through the model
    whole = verdict(10**9)
    assert quick == whole, f'{case}: {quick!r} != {whole!r}'
    assert (quick == 'ok') == (case == 'fine'), f'{case}: {quick}'

def test_the_first_batch_check_changes_nothing_parity_holds():
    "Same seed, same loaders: a fit with the check gives the same weights as the first fit of a learner that skips it."
    def run(skip):
        torch.manual_seed(0)
        l = learner(model=nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Dropout(0.3), nn.Linear(4, 2)))
        if skip: l._checked = (id(l.model), id(l.dls.train), id(l.dls.valid), id(l.loss_func), l.n_inp, l.target_key)
        torch.manual_seed(1); l.fit(2)
        return weights(l.model)
    assert all(torch.equal(a, b) for a, b in zip(run(False), run(True)))

@pytest.mark.parametrize('kw,msg', [
    (dict(opt_func='adam'), 'torch.optim.Adam'),
    (dict(opt_func=torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)), 'optimizer instance'),
    (dict(loss_func=nn.CrossEntropyLoss), r'pass an instance: loss_func=CrossEntropyLoss\(\)'),
    (dict(loss_func='cross_entropy'), 'pass a loss'),
    (dict(model=nn.Linear), 'pass an instance'),
])
def test_opt_func_and_loss_func_are_checked_at_construction(kw, msg):
    with pytest.raises(TypeError, match=msg): learner(**kw)

# --- 5. Cancels never escape ------------------------------------------------------------------------------------

def test_a_cancel_raised_where_its_phase_ends_just_ends_it():
    class LateBatch(Callback):
        def after_batch(self): raise CancelBatchException()
    class LateEpoch(Callback):
        def after_epoch(self): raise CancelEpochException()
    learn = learner(); learn.fit(2, cbs=[LateBatch(), LateEpoch()])
    assert len(learn.recorder.losses) == 8 and len(learn.recorder.values) == 2   # every batch and epoch ran and was seen

def test_a_misplaced_cancel_is_an_error_naming_where_it_may_be_raised_and_after_fit_runs():
    class Wrong(Callback):
        def after_epoch(self): raise CancelBatchException()
    class End(Callback):
        order = 99
        def __init__(self): self.after = self.cleanup = False
        def after_fit(self): self.after = True
        def cleanup_fit(self): self.cleanup = True
    e = End()
    with pytest.raises(MisplacedCancelError, match='raised in `after_epoch`.*no batch is running'): learner().fit(1, cbs=[Wrong(), e])
    assert e.after and e.cleanup

# --- 6. Non-finite training -------------------------------------------------------------------------------------

def nan_learner(**kw):
    torch.manual_seed(0)
    x = torch.randn(32, 5) * 100; y = (x[:, 0] > 0).long()
    dl = DataLoader(TensorDataset(x, y), 8)
    return Learner(nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2)), (dl, dl), F.cross_entropy, lr=1e6, logger=None, **kw)

def test_non_finite_training_stops_with_a_diagnosis_and_finite_weights():
    learn = nan_learner()
    with pytest.raises(NonFiniteError) as e: learn.fit(3)
    msg = str(e.value)
    assert 'epoch 0, batch' in msg and 'learning rate 1e+06' in msg and 'output of `2`' in msg and "NonFiniteStop('warn')" in msg
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())
    assert all(math.isfinite(l) for l in learn.recorder.losses)

def test_non_finite_gradients_stop_before_the_step():
    class InfGrad(Callback):
        order = 50
        def after_backward(self):
            if self.learn.train_iter == 2: self.learn.model.weight.grad[0, 0] = float('inf')
    learn = learner()
    with pytest.raises(NonFiniteError, match='Non-finite gradients in 1 of 2 parameter tensors'): learn.fit(1, cbs=[InfGrad()])
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())

def test_on_a_gpu_the_loss_is_checked_with_the_gradients_before_the_step(monkeypatch):
    "Where reading a number waits for the device, the loss joins the gradients' check: one wait per step, same stop."
    import learner_course.guards as guards
    monkeypatch.setattr(guards, '_read_is_free', lambda t: False)   # behave as on a GPU (unit test on the CPU)
    learn = nan_learner()
    with pytest.raises(NonFiniteError) as e: learn.fit(3)
    assert 'the loss became NaN' in str(e.value) and 'output of `2`' in str(e.value)
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())
    calls = []
    def inf_at_third(p, y):   # an infinite loss whose gradients are finite: only the loss itself shows it
        calls.append(1)
        return F.cross_entropy(p, y) + (float('inf') if len(calls) == 4 else 0.)
    learn = learner(loss_func=inf_at_third)
    with pytest.raises(NonFiniteError, match='the loss became NaN.*the loss function produced it'): learn.fit(1)
    test_non_finite_gradients_stop_before_the_step()

def test_the_finiteness_check_has_a_fallback_where_pytorch_lacks_its_fused_check(monkeypatch):
    import learner_course.guards as guards
    def missing(*a): raise RuntimeError('not implemented for this device')
    monkeypatch.setattr(torch, '_amp_foreach_non_finite_check_and_unscale_', missing)
    assert guards.all_finite([torch.ones(3), torch.zeros(2, 2)])
    assert not guards.all_finite([torch.ones(3), torch.tensor([0., float('nan')])])
    assert not guards.all_finite([torch.tensor([float('-inf')])])
    test_non_finite_gradients_stop_before_the_step()

def test_opting_out_trains_through_and_warn_warns_once():
    learn = nan_learner(cbs=[NonFiniteStop('ignore')]); learn.fit(2)
    assert not all(torch.isfinite(p).all() for p in learn.model.parameters())
    learn = nan_learner(cbs=[NonFiniteStop('warn')])
    with pytest.warns(UserWarning, match='training goes on') as w: learn.fit(2)
    assert sum('NonFiniteStop' in str(x.message) for x in w) == 1

def test_a_scaler_skipping_steps_does_not_stop_training():
    class FakeScaler:
        "Stands in for a GradScaler that skips every other step (unit test)."
        def __init__(self): self.n = 0
        def is_enabled(self): return True
        def get_scale(self): return 1024.
    class SkipEveryOther(Callback):
        order = 95
        def before_fit(self): self.learn.scaler = FakeScaler()
        def after_step(self): self.learn.step_skipped = self.learn.train_iter % 2 == 0
        def cleanup_fit(self): self.learn.scaler = None
    learn = learner(); learn.fit(2, cbs=[SkipEveryOther()])   # no error
    assert len(learn.recorder.losses) == 8

# --- 9. Checkpoints you can trust (save/load) ---------------------------------------------------------------------

def test_load_refuses_an_optimizer_of_another_kind_and_changes_nothing(tmp_path):
    learn = learner(path=tmp_path, opt_func=torch.optim.Adam); learn.fit(1); learn.save('m')
    other = learner(path=tmp_path); w = weights(other.model)
    with pytest.raises(ValueError, match='saved from a Adam'): other.load('m')
    assert same(other.model, w) and other.opt is None
    other.load('m', with_opt=False); assert same(other.model, weights(learn.model))

def test_a_corrupted_checkpoint_is_refused(tmp_path):
    learn = learner(path=tmp_path); learn.fit(1); f = learn.save('m')
    raw = torch.load(f, weights_only=True); raw['model']['weight'][0, 0] += 1; torch.save(raw, f)
    with pytest.raises(ValueError, match='corrupted'): learn.load('m')

def test_saved_tensors_are_on_the_cpu(tmp_path):
    learn = learner(path=tmp_path); learn.fit(1); f = learn.save('m')
    raw = torch.load(f, map_location='cpu', weights_only=True)
    assert all(v.device.type == 'cpu' for v in raw['model'].values())
