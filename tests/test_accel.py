"Contracts of learner_course.accel beyond the notebook: event order under accumulation, checkpoints, errors (tiny random data)."
import math
from functools import partial
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner, TrainCB
from learner_course.events import Callback
from learner_course.rng import set_seed
from learner_course.persist import atomic_save
from learner_course.accel import (MixedPrecision, GradientAccumulation, GradientClipping, TimingCB, CompileCB,
                                  is_compiled, layer_times, amp_dtype, amp_choice, cpu_bf16_native, channels_last_pays)
import learner_course.accel as accel

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

class SpyTrainer(TrainCB):
    "The default trainer, also recording (into `events`) each real zero_grad (only trainers may answer step events)."
    def __init__(self, events): self.events = events
    def zero_grad(self): self.events._rec('zero_grad'); super().zero_grad()

def test_accumulation_event_sequence():
    "Micro-batches 0..n_acc-2 of each group: cancelled step (no zero_grad); the group's last: a real step."
    ev = Events()
    learn = _learner(n=20, bs=4, cbs=[ev, SpyTrainer(ev)])  # 5 micro-batches, n_acc=2: groups (0,1) (2,3) (4)
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
    """A Learner built with MixedPrecision predicts (e.g. after `load`) before any fit: computed in bfloat16 here,
    handed back as float32 (what metrics, softmax and numpy expect)."""
    seen = []
    class Dtype(Callback):
        def after_pred(self): seen.append(self.learn.pred.dtype)
    learn = _learner(cbs=[MixedPrecision(dtype='bf16', verbose=False), Dtype()])
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


# -- precision chosen by capability: one rule, one place --------------------------------------------------------------

def test_amp_rule_by_capability():
    "float16 (+ scaler) below compute capability 8 (T4), bfloat16 from 8 and on CPUs with native bf16, else float32."
    assert accel._amp_rule('cuda', (7, 5))[0] == torch.float16          # T4: is_bf16_supported() says True, by emulation
    assert accel._amp_rule('cuda', (7, 0))[0] == torch.float16          # V100
    assert accel._amp_rule('cuda', (8, 0))[0] == torch.bfloat16         # A100
    assert accel._amp_rule('cpu', None, True)[0] == torch.bfloat16
    dt, why = accel._amp_rule('cpu', None, False)
    assert dt is None and 'emulated' in why
    assert accel._amp_rule('mps')[0] is None
    assert amp_dtype('cpu') == (torch.bfloat16 if cpu_bf16_native() else None)
    assert amp_choice(torch.device('cpu'))[0] == amp_dtype('cpu')

def test_avx2_cpu_is_not_native_bf16():
    "An AVX2-only CPU (no AVX-512) has neither AVX-512-BF16 nor AMX."
    if torch.backends.cpu.get_cpu_capability() != 'AVX2': pytest.skip('this CPU has more than AVX2')
    assert not cpu_bf16_native() and amp_dtype('cpu') is None

def test_mixed_precision_default_follows_the_rule(capsys):
    "MixedPrecision() uses amp_dtype's choice; where that is float32, autocast is off, no scaler, and it says so once."
    seen = []
    class Dtype(Callback):
        def after_pred(self): seen.append(self.learn.pred.dtype)
    mp = MixedPrecision()
    learn = _learner(cbs=[mp, Dtype()])
    learn.fit(1); learn.fit(1)
    want = amp_dtype(learn.device)
    assert mp.dtype == (want or torch.float32) and set(seen) == {want or torch.float32}
    if want is None:
        assert not mp.scaler.is_enabled() and capsys.readouterr().out.count('training in float32') == 1

def test_bf16_refused_on_a_gpu_without_it(monkeypatch):
    "Asking MixedPrecision for bfloat16 on a GPU below compute capability 8 is refused with the fix (stand-in device facts)."
    monkeypatch.setattr(accel, 'amp_choice', lambda device=None: accel._amp_rule('cuda', (7, 5)))
    monkeypatch.setattr(accel, 'amp_dtype', lambda device=None: torch.float16)
    with pytest.raises(ValueError, match=r'not native on this GPU.*MixedPrecision\(\)'):
        MixedPrecision(dtype='bf16')._setup(torch.device('cuda'))

def test_channels_last_rule():
    assert channels_last_pays('cpu') and not channels_last_pays('mps')

# -- the loss-scaler protocol ----------------------------------------------------------------------------------------

class _Protocol(Callback):
    "Record learn.scaler at each real step and learn.step_skipped after it; make training batch `poison` overflow."
    order = 50
    def __init__(self, poison=None): self.poison, self.scalers, self.skipped = poison, [], []
    def after_loss(self):
        if self.learn.training and self.learn.iter == self.poison: self.learn.loss = self.learn.loss * math.inf
    def before_step(self): self.scalers.append(self.learn.scaler)
    def after_step(self):
        if not getattr(self, 'cancelled', False): self.skipped.append(self.learn.step_skipped)
        self.cancelled = False
    def after_cancel_step(self): self.cancelled = True

def test_mixed_precision_publishes_its_scaler_and_skipped_steps():
    "learn.scaler is the GradScaler during the fit (None after); learn.step_skipped is True exactly for the skipped step."
    pr, mp = _Protocol(poison=3), MixedPrecision(dtype=torch.float16, verbose=False)
    learn = _learner(n=24, bs=4)
    learn.fit(1, valid=False, cbs=[mp, pr])
    assert pr.scalers == [mp.scaler] * 6
    assert pr.skipped == [False, False, False, True, False, False] and mp.n_skipped == 1
    assert learn.scaler is None
    learn2 = _learner(); pr2 = _Protocol(); learn2.fit(1, valid=False, cbs=[MixedPrecision(dtype='bf16', verbose=False), pr2])
    assert set(pr2.scalers) == {None} and not any(pr2.skipped)   # bfloat16: no scaler to publish

def _fp16_skips(opt_func=torch.optim.SGD, break_hook=False):
    "learn.step_skipped per step, with batch 3 (and batch 0 of a second fit) poisoned, and the scale reads made during the second fit."
    mp, reads = MixedPrecision(dtype=torch.float16, verbose=False), []
    learn = _learner(n=24, bs=4, opt_func=opt_func)
    if break_hook:   # an optimizer whose step hooks never run: the step hook cannot be trusted
        learn.create_opt().register_step_post_hook = lambda hook: type('Handle', (), {'remove': lambda self: None})()
    pr = _Protocol(poison=3); learn.fit(1, valid=False, cbs=[mp, pr])
    real = mp.scaler.get_scale
    mp.scaler.get_scale = lambda: reads.append(1) or real()
    pr2 = _Protocol(poison=0); learn.fit(1, valid=False, cbs=[mp, pr2])
    return pr.skipped, pr2.skipped, len(reads)

@pytest.mark.parametrize('kind', ['hook', 'broken hook', 'fused'])
def test_skipped_steps_are_found_without_reading_the_scale_each_step(kind):
    "On a GPU each read of the loss scale waits for the device: once the optimizer's step hook has fired, MixedPrecision reads none per step, and still finds every skipped step (otherwise it compares scales)."
    if kind == 'fused':
        try: torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1, fused=True)
        except (RuntimeError, ValueError, TypeError): pytest.skip('no fused SGD on the CPU in this PyTorch')
    opt = partial(torch.optim.SGD, fused=True) if kind == 'fused' else torch.optim.SGD
    first, second, reads = _fp16_skips(opt, break_hook=kind == 'broken hook')
    assert first == [False, False, False, True, False, False] and second == [True] + [False] * 5
    assert reads == (0 if kind == 'hook' else 12)   # fused optimizers step even when skipping; a silent hook is never trusted

class _ScaledTrainer(TrainCB):
    "A trainer that owns a GradScaler (as DistributedCB('fp16') does), in float32: only the scaling matters here."
    def before_fit(self):
        self.sc = torch.amp.GradScaler('cpu', init_scale=2.**14)
        self.learn.scaler = self.sc
    def backward(self): self.sc.scale(self.learn.loss).backward()
    def step(self):
        before = self.sc.get_scale(); self.sc.step(self.learn.opt); self.sc.update()
        self.learn.step_skipped = self.sc.get_scale() < before
    def cleanup_fit(self): self.learn.scaler = None

def test_clipping_unscales_a_scaler_owned_by_another_trainer():
    "GradientClipping unscales through learn.scaler whoever owns it: the run matches an unscaled one with the same clipping."
    scaled = _learner(n=24, bs=4, cbs=[_ScaledTrainer()])
    clip = GradientClipping(max_norm=0.05)
    scaled.fit(2, valid=False, cbs=[clip])
    plain = _learner(n=24, bs=4)
    clip_ref = GradientClipping(max_norm=0.05)
    plain.fit(2, valid=False, cbs=[clip_ref])
    assert clip.norms == pytest.approx(clip_ref.norms, rel=1e-4) and max(clip.norms) > 0.05   # real norms, clipping had work
    for p, q in zip(scaled.model.parameters(), plain.model.parameters()): torch.testing.assert_close(p, q)

def test_clipping_under_accumulation_with_fp16_and_a_skipped_step():
    "fp16 + GradientAccumulation(2) + GradientClipping: one unscale and clip per real step; an inf in a group skips its step."
    class After(Callback):
        order = -10   # after GradientClipping (-20): sees what the optimizer will get
        def before_fit(self): self.norms = []
        def before_step(self):
            self.norms.append(torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in self.learn.model.parameters()])).item())
    pr, after, clip = _Protocol(poison=2), After(), GradientClipping(max_norm=0.1)   # micro-batch 2: first of group 2
    ga, mp = GradientAccumulation(2), MixedPrecision(dtype=torch.float16, verbose=False)
    learn = _learner(n=32, bs=4)                                      # 8 micro-batches: 4 real steps
    w = []
    class Weights(Callback):
        order = 100
        def before_batch(self): self.cancelled = False
        def after_cancel_step(self): self.cancelled = True
        def after_step(self):
            if not self.cancelled: w.append([p.detach().clone() for p in self.learn.model.parameters()])
    learn.fit(1, valid=False, cbs=[ga, clip, mp, pr, after, Weights()])
    assert ga.n_steps == 4 and len(clip.norms) == 4 and len(after.norms) == 4 and len(pr.scalers) == 4
    assert pr.skipped == [False, True, False, False] and mp.n_skipped == 1
    assert not math.isfinite(clip.norms[1])                           # the poisoned group
    assert all(n <= 0.1 * 1.001 for i, n in enumerate(after.norms) if i != 1)   # unscaled, then clipped
    assert all(torch.equal(a, b) for a, b in zip(w[0], w[1]))         # the skipped step changed nothing

# -- timing and profiling decide the device after DeviceCB moved the model -----------------------------------------

def test_timing_waits_for_the_gpu_once_the_model_is_there(monkeypatch):
    "TimingCB (order -1000) decides after DeviceCB's before_fit: a stand-in 'moves' the model to CUDA there."
    calls = []
    monkeypatch.setattr(torch.cuda, 'synchronize', lambda *a, **k: calls.append(1))
    class GpuLearner(Learner):
        on_gpu = False
        @property
        def device(self): return torch.device('cuda' if self.on_gpu else 'cpu')
    class Move(Callback):
        order = -200   # DeviceCB's order
        def before_fit(self): self.learn.on_gpu = True
    set_seed(0)
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    tcb = TimingCB()
    GpuLearner(nn.Linear(6, 3), (dl, dl), F.cross_entropy, cbs=[Move()]).fit(1, cbs=[tcb])
    assert tcb._sync and len(calls) >= 2 * (2 + 2)   # at least one wait per stamp of 4 batches

def test_profile_fit_looks_where_the_fit_will_train():
    from learner_course.callbacks import DeviceCB
    learn = _learner(cbs=[DeviceCB('meta')])
    assert accel._fit_device(learn) == torch.device('meta') and learn.device.type == 'cpu'
