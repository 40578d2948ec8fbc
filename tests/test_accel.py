"Contracts of learner_course.accel beyond the notebook: event order under accumulation, checkpoints, errors (tiny random data)."
import math
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner, Callback, TrainCB, set_seed, atomic_save
from learner_course.accel import (MixedPrecision, GradientAccumulation, GradientClipping, TimingCB, CompileCB,
                                  is_compiled, layer_times)

def _learner(n=40, bs=4, model=None, cbs=None, lr=0.1, opt_func=torch.optim.SGD):
    "A linear classifier on fixed random data (unit-test data, not a lesson)."
    set_seed(0)
    x, y = torch.randn(n, 6), torch.randint(0, 3, (n,))
    dl = DataLoader(TensorDataset(x, y), batch_size=bs)
    return Learner(model or nn.Linear(6, 3), (dl, dl), F.cross_entropy, lr=lr, cbs=cbs, opt_func=opt_func)

class Events(Callback):
    "Record (iter, event) for the step-related events of training batches."
    order = 100
    def __init__(self): self.log = []
    def _rec(self, ev):
        if self.learn.training: self.log.append((self.learn.iter, ev))
    def after_cancel_step(self): self._rec('after_cancel_step')
    def after_step(self): self._rec('after_step')
    def zero_grad(self): self._rec('zero_grad')

def test_accumulation_event_sequence():
    "Micro-batches 0..n_acc-2 of each group: cancelled step (no zero_grad); the group's last: a real step."
    ev = Events()
    learn = _learner(n=20, bs=4, cbs=[ev])                  # 5 micro-batches, n_acc=2: groups (0,1) (2,3) (4)
    learn.fit(1, valid=False, cbs=[GradientAccumulation(2)])
    real = [i for i, e in ev.log if e == 'zero_grad']
    cancelled = [i for i, e in ev.log if e == 'after_cancel_step']
    assert real == [1, 3, 4] and cancelled == [0, 2]
    assert [i for i, e in ev.log if e == 'after_step'] == [0, 1, 2, 3, 4]   # the Learner fires it always

def test_partial_last_group_is_a_mean():
    "The last group (1 micro-batch of 4 when n_acc=2) steps with its own mean gradient, like a batch of 4."
    learn_acc = _learner(n=20, bs=4); learn_acc.fit(1, valid=False, cbs=[GradientAccumulation(2)])
    x, y = learn_acc.dls.train.dataset.tensors
    set_seed(0); ref = nn.Linear(6, 3)
    ref.load_state_dict(_learner(n=20, bs=4).model.state_dict())
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for s, e in ((0, 8), (8, 16), (16, 20)):
        opt.zero_grad(); F.cross_entropy(ref(x[s:e]), y[s:e]).backward(); opt.step()
    for a, b in zip(learn_acc.model.parameters(), ref.parameters()): torch.testing.assert_close(a, b)

def test_accumulation_recorded_loss_is_unscaled():
    learn = _learner(n=16, bs=4)
    learn.fit(1, valid=False, cbs=[GradientAccumulation(4)])
    x, y = learn.dls.train.dataset.tensors
    set_seed(0); m0 = _learner(n=16, bs=4).model
    first = F.cross_entropy(m0(x[:4]), y[:4]).item()       # before any step: the real loss of micro-batch 0
    assert abs(learn.recorder.losses[0] - first) < 1e-5

def test_accumulation_with_lesson07_scheduler():
    "Lesson 07's per-batch schedulers step once per group (they skip steps ending in after_cancel_step)."
    sched = pytest.importorskip('learner_course.schedule')
    if not hasattr(sched, 'BatchSchedCB'): pytest.skip('no BatchSchedCB in learner_course.schedule yet')
    learn = _learner(n=24, bs=4)                            # 6 micro-batches, n_acc=3: 2 steps
    s = sched.BatchSchedCB(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    learn.fit(1, valid=False, cbs=[GradientAccumulation(3), s])
    assert learn.recorder.lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05])

def test_mixed_precision_temporary_restores_trainer_even_on_error():
    learn = _learner()
    tr = learn.trainer
    class Boom(Callback):
        def after_batch(self): raise RuntimeError('boom')
    with pytest.raises(RuntimeError, match='boom'): learn.fit(1, cbs=[MixedPrecision(), Boom()])
    assert learn.trainer is tr and [c for c in learn.cbs if isinstance(c, TrainCB)] == [tr]

def test_mixed_precision_at_construction_replaces_default():
    mp = MixedPrecision()
    learn = _learner(cbs=[mp])
    assert [c for c in learn.cbs if isinstance(c, TrainCB)] == [mp] and learn.mixed_precision is mp
    learn.fit(1)
    assert mp.n_steps == len(learn.dls.train) and mp in learn.cbs

def test_mixed_precision_state_dict_roundtrip_through_a_file(tmp_path):
    learn = _learner()
    mp = MixedPrecision(dtype=torch.float16, verbose=False)
    learn.fit(1, cbs=[mp])
    mp.scaler.update(1024.)                                 # a distinctive scale
    atomic_save({'mp': mp.state_dict()}, tmp_path/'ck.pth')
    mp2 = MixedPrecision(dtype=torch.float16, verbose=False)
    mp2.load_state_dict(torch.load(tmp_path/'ck.pth', weights_only=True)['mp'])
    assert mp2.state_dict()['scale'] == 1024.               # pending until the scaler exists...
    _learner().fit(1, train=False, cbs=[mp2])
    assert mp2.scaler.get_scale() == 1024.                  # ...then loaded into it
    assert MixedPrecision().state_dict() == {}
    with pytest.raises(TypeError, match='state_dict'): mp2.load_state_dict([1, 2])

def test_mixed_precision_reports_skips(capsys):
    class Inf(Callback):
        def after_loss(self):
            if self.learn.training and self.learn.iter < 2: self.learn.loss = self.learn.loss * math.inf
    learn = _learner()
    mp = MixedPrecision(dtype=torch.float16)
    learn.fit(1, cbs=[mp, Inf()])
    assert mp.n_skipped == 2 and mp.scaler.get_scale() == 65536 / 4
    assert '2 of 10 steps skipped' in capsys.readouterr().out

def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match='16-bit'): MixedPrecision(dtype='fp32')
    with pytest.raises(ValueError, match='n_acc'): GradientAccumulation(1.5)
    with pytest.raises(ValueError, match='max_norm'): GradientClipping(max_norm=-1)
    with pytest.raises(ValueError, match='nothing to clip'): GradientClipping(max_norm=None)

def test_clip_value_caps_components():
    class Peek(Callback):
        order = 0
        def before_step(self): self.gmax = max(p.grad.abs().max().item() for p in self.learn.model.parameters())
    pk = Peek()
    learn = _learner(lr=10.)
    learn.fit(1, valid=False, cbs=[GradientClipping(max_norm=None, clip_value=1e-3), pk])
    assert pk.gmax <= 1e-3 + 1e-9

def test_timing_counts_with_accumulation():
    t = TimingCB()
    learn = _learner(n=20, bs=4)
    learn.fit(1, cbs=[t, GradientAccumulation(2)])
    assert t.counts == {'train': 5, 'valid': 5} and t.times['train']['step'] > 0

def test_compile_eager_backend_keeps_state_dict():
    learn = _learner()
    keys = list(learn.model.state_dict())
    learn.fit(1, cbs=[CompileCB(backend='eager')])
    assert is_compiled(learn.model) and list(learn.model.state_dict()) == keys

def test_layer_times_removes_hooks_on_error():
    m = nn.Sequential(nn.Linear(6, 3), nn.ReLU(), nn.Linear(4, 2))   # shapes do not chain: forward fails
    with pytest.raises(RuntimeError): layer_times(m, torch.randn(2, 6))
    assert all(not mod._forward_hooks and not mod._forward_pre_hooks for mod in m.modules())

def _image_learner(cbs):
    "A small conv net on fixed random 3-channel 8x8 images (unit-test data, not a lesson)."
    set_seed(0)
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 3, (16,))
    dl = DataLoader(TensorDataset(x, y), batch_size=8)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    return Learner(model, (dl, dl), F.cross_entropy, lr=0.1, cbs=cbs)

class _InputLayout(Callback):
    "Record whether each batch reaching the model is channels-last (and not plain contiguous)."
    order = 50
    def before_fit(self): self.seen = []
    def before_batch(self):
        xb = self.learn.xb
        self.seen.append(xb.is_contiguous(memory_format=torch.channels_last) and not xb.is_contiguous())

def test_channels_last_after_batch_transforms_and_same_training():
    "ChannelsLast converts batches after augmentation-style transforms (which hand back NCHW), and trains the same."
    from learner_course.accel import ChannelsLast
    from learner_course.init import BatchTransformCB
    probe = _InputLayout()
    learn = _image_learner([BatchTransformCB(lambda xb: xb.flip(-1).contiguous()), ChannelsLast(), probe])
    learn.fit(1)
    assert probe.seen == [True] * 4                       # 2 training + 2 validation batches
    ref = _image_learner([BatchTransformCB(lambda xb: xb.flip(-1).contiguous())]); ref.fit(1)
    for p, q in zip(learn.model.parameters(), ref.model.parameters()): assert torch.allclose(p, q, atol=1e-5)

def test_mixed_precision_predictions_before_any_fit():
    """A Learner built with MixedPrecision predicts (e.g. after `load`) before any fit: computed in bfloat16 on the CPU,
    handed back as float32 (what metrics, softmax and numpy expect)."""
    seen = []
    class Dtype(Callback):
        def after_pred(self): seen.append(self.learn.pred.dtype)
    learn = _learner(cbs=[MixedPrecision(verbose=False), Dtype()])
    preds, targs = learn.get_preds()
    assert set(seen) == {torch.bfloat16}
    assert preds.shape == (40, 3) and preds.dtype == torch.float32
    ref = learn.model(learn.dls.valid.dataset.tensors[0]).detach()
    assert torch.allclose(preds, ref, atol=0.05) and not torch.equal(preds, ref)

def test_one_cycle_spans_the_real_steps_under_accumulation():
    "A one-cycle schedule under GradientAccumulation(4) plans ceil(10/4) = 3 steps per epoch and completes its cycle."
    from learner_course.schedule import OneCycleLR
    lrs = []
    class LRs(Callback):
        order = 100
        def after_step(self):
            if self.learn.training: lrs.append(self.learn.opt.param_groups[0]['lr'])
    oc = OneCycleLR(max_lr=0.1)
    learn = _learner(n=40, bs=4, cbs=[LRs()])              # 10 micro-batches per epoch
    learn.fit(2, cbs=[GradientAccumulation(4), oc])
    assert oc.sched.total_steps == 2 * 3
    assert min(lrs) < 0.1 / 1e3 and lrs[-1] == min(lrs)     # annealed to the end, not stopped mid-warm-up
