"""Contracts of learner_course.hooks beyond the notebook: no hook survives a fit (normal, cancelled, failing,
interrupted), the statistics kept stay small whatever the batch size and go to the CPU batch by batch, gradients
are recorded as they really are under a loss scaler (skipped steps left out), and the pictures are real images.
Tiny random tensors stand in for data (these are unit tests, not lessons)."""
import pytest, torch
from torch import nn
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import matplotlib.image as mpimg
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner, TrainCB
from learner_course.events import Callback, CancelFitException, CancelEpochException, CancelBatchException
from learner_course.hooks import Hook, Hooks, HooksCallback, ActivationStats, GradientStats

def n_hooks(model):
    "Every hook PyTorch can hold on a module or a parameter."
    mods = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) +
               len(getattr(m, '_backward_pre_hooks', {})) for m in model.modules())
    params = sum(len(p._backward_hooks or {}) if hasattr(p, '_backward_hooks') else 0 for p in model.parameters())
    return mods + params

def model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2, padding=1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 3))

def dls(n=96, bs=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 1, 16, 16, generator=g), torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=bs), DataLoader(TensorDataset(x[:32], y[:32]), batch_size=bs)

class Raise(Callback):
    "Raise `exc` in `event` on the second training batch."
    order = 100
    def __init__(self, exc, event='after_batch'): self.exc = exc; setattr(self, event, self._go)
    def _go(self):
        if self.learn.training and self.learn.iter == 1: raise self.exc

def _learner(m, cbs, bs=16):
    l = Learner(m, dls(bs=bs), lr=0.05, cbs=cbs); l.logger = None
    return l

def _stats_cbs(): return [ActivationStats(), GradientStats(), HooksCallback(lambda *a: None),
                          HooksCallback(lambda *a: None, forward=False, mod_filter=lambda m: isinstance(m, nn.Conv2d))]

class _Raise2(Raise):
    def after_batch(self): self._go()

@pytest.mark.parametrize('exc', [None, CancelFitException(), CancelEpochException(), RuntimeError('bug'), KeyboardInterrupt()],
                         ids=['normal', 'cancel_fit', 'cancel_epoch', 'error_in_other_cb', 'keyboard_interrupt'])
@pytest.mark.filterwarnings('ignore:Full backward hook is firing')   # a backward hook on the first conv, on purpose
def test_no_hook_left(exc):
    m = model(); cbs = _stats_cbs()
    l = _learner(m, cbs)
    seen = []
    probe = HooksCallback(lambda *a: seen.append(n_hooks(m)))   # counts hooks while training runs
    extra = [probe] + ([_Raise2(exc)] if exc is not None else [])
    if isinstance(exc, (RuntimeError, KeyboardInterrupt)):
        with pytest.raises(type(exc)): l.fit(2, cbs=extra)
    else: l.fit(2, cbs=extra)
    assert seen and max(seen) == 2 + 6, f'expected 8 hooks during training (probe 2, stats 6), saw {max(seen or [0])}'
    assert n_hooks(m) == 0, f'{n_hooks(m)} hooks left on the model after {exc!r}'
    l.fit(1)                                  # the learner still trains afterwards, and still leaves nothing
    assert n_hooks(m) == 0

def test_hooks_removed_when_registration_fails():
    m = model()
    with pytest.raises(TypeError): Hooks([m[0], m[1], 'not a module'], lambda *a: None)
    assert n_hooks(m) == 0

def test_bad_module_choice_leaves_nothing():
    m = model(); l = _learner(m, [])
    with pytest.raises(ValueError, match='mods='): l.fit(1, cbs=[HooksCallback(lambda *a: None, mod_filter=lambda m: False)])
    assert n_hooks(m) == 0

@pytest.mark.parametrize('cls', [ActivationStats, GradientStats])
def test_stats_memory_small_and_independent_of_batch_size(cls):
    per_batch = {}
    for bs in (16, 256):
        m = model(); cb = cls()
        l = Learner(m, dls(n=512, bs=bs), lr=0.05, cbs=[cb]); l.logger = None
        l.fit(1)
        n_rec = len(cb.batches); assert n_rec == 512 // bs
        per_batch[bs] = cb.nbytes / n_rec
        per_layer = per_batch[bs] / len(cb.names)
        assert per_layer < 2048, f'{cls.__name__} keeps {per_layer:.0f} bytes per layer per batch'
        for t in cb._rows: assert t.device.type == 'cpu' and t.shape == (len(cb.names), cb.n_head + cb.bins)
    assert per_batch[16] == per_batch[256], per_batch

def test_every_records_every_nth_training_batch_only():
    m = model(); cb = ActivationStats(every=2)
    _learner(m, [cb]).fit(1)       # 6 training batches, 2 validation batches
    assert cb.batches == [0, 2, 4]
    assert cb.hists.shape[:2] == (2, 3)
    assert torch.equal(cb.hists.sum(-1)[0], torch.full((3,), 16. * 4 * 8 * 8))   # every value counted, bs 16

def _check_png(path, min_w=300):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[1] >= min_w and img.shape[0] >= 150, img.shape
    assert img[..., :3].var() > 0, 'blank picture'
    return img

@pytest.mark.parametrize('meth', ['plot_stats', 'color_dim', 'dead_chart'])
def test_activation_pictures(meth, tmp_path):
    cb = ActivationStats(); _learner(model(), [cb]).fit(1)
    f = tmp_path/f'{meth}.png'
    fig = getattr(cb, meth)(fname=f)
    assert fig is not None and f.exists()
    w, h = fig.get_size_inches()
    assert w <= 12
    assert all(ax.get_title() or not ax.axison for ax in fig.axes if ax.get_label() != '<colorbar>')
    _check_png(f); plt.close(fig)

@pytest.mark.parametrize('meth', ['plot_stats', 'plot_flow', 'color_dim'])
def test_gradient_pictures(meth, tmp_path):
    cb = GradientStats(); _learner(model(), [cb]).fit(1)
    f = tmp_path/f'{meth}.png'
    fig = getattr(cb, meth)(fname=f)
    _check_png(f); plt.close(fig)

def test_plots_before_training_explain():
    with pytest.raises(ValueError, match='fit'): ActivationStats().plot_stats()

def test_dead_share_in_unit_interval():
    cb = ActivationStats(); _learner(model(), [cb]).fit(1)
    d = cb.dead_share()
    assert d.shape == cb.means.shape and (d >= 0).all() and (d <= 1).all()

def test_bad_arguments():
    for kw in (dict(every=0), dict(bins=1), dict(max=0)):
        with pytest.raises(ValueError): ActivationStats(**kw)

def test_activation_stats_same_in_channels_last_layout():
    "A channels-last model (lesson 14's ChannelsLast, as the final model trains) gets the same statistics as NCHW."
    from learner_course.accel import ChannelsLast
    stats = []
    for cbs in ([], [ChannelsLast()]):
        torch.manual_seed(0); cb = ActivationStats(sample=None)
        _learner(model(), [cb] + cbs).fit(1)
        stats.append(cb)
    a, b = stats
    assert torch.allclose(a.means, b.means, atol=1e-5) and torch.allclose(a.stds, b.stds, atol=1e-5)
    assert torch.equal(a.hists, b.hists)

def test_sampled_histogram_totals_and_exact_small_layers():
    "Layers bigger than `sample` get an estimated histogram scaled to their size; smaller ones are counted exactly."
    torch.manual_seed(0); m = model(); small, full = ActivationStats(sample=3000), ActivationStats(sample=None)
    _learner(m, [small, full]).fit(1)
    sizes = torch.tensor([16 * 4 * 8 * 8, 16 * 8 * 4 * 4.])          # the two ReLUs' outputs per batch of 16
    assert torch.allclose(small.hists.sum(-1), sizes[:, None].expand(2, 6), rtol=1e-4)
    assert not torch.equal(small.hists[0], full.hists[0])               # 4096 values > 3000: estimated
    assert torch.equal(small.hists[1], full.hists[1])                   # 2048 values: counted exactly
    assert (small.hists[0] / sizes[0] - full.hists[0] / sizes[0]).abs().max() < 0.1
    assert torch.allclose(small.means, full.means) and torch.allclose(small.stds, full.stds)   # means/stds use every value

@pytest.mark.parametrize('sample', [None, 300])
def test_stats_see_the_output_before_a_later_inplace_op(sample):
    "BatchNorm's output, which the next ReLU(inplace=True) overwrites, is recorded as BatchNorm gave it."
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(4 * 16 * 16, 3))
    cb = ActivationStats(mods=[m[1]], sample=sample, max=4.)
    _learner(m, [cb]).fit(1)
    assert cb.means.abs().max() < 0.1                  # normalised output: mean near 0, not a ReLU's positive mean
    assert cb.dead_share().max() < 0.2                 # |N(0,1)| in [0, 0.1): ~8 %; after the ReLU it would be ~50 %


@pytest.mark.parametrize('cls', [ActivationStats, GradientStats])
def test_stats_leave_the_device_after_every_batch(cls):
    "After each recorded batch: one CPU tensor more, nothing pending — so no device tensor accumulates, on any device."
    cb, seen = cls(), []
    class Probe(Callback):
        order = 50
        def after_batch(self):
            if self.learn.training: seen.append((len(cb._rows), cb._pending))
    _learner(model(), [cb, Probe()]).fit(1)
    assert [n for n, p in seen] == list(range(1, 7))
    assert all(not p for n, p in seen)
    assert all(t.device.type == 'cpu' for t in cb._rows)

def test_activation_stats_keep_a_cancelled_batch_once_and_add_up_a_module_run_twice():
    "A batch cancelled after the forward pass still records; a module called twice per forward counts both calls."
    relu = nn.ReLU()
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), relu, nn.Conv2d(4, 4, 3, padding=1), relu, nn.Flatten(), nn.Linear(4 * 16 * 16, 3))
    cb = ActivationStats(mods=[relu], sample=None)
    class CancelSecond(Callback):
        def after_loss(self):
            if self.learn.training and self.learn.iter == 1: raise CancelBatchException()
    _learner(m, [cb, CancelSecond()]).fit(1)
    assert cb.batches == list(range(6))
    assert torch.equal(cb.hists.sum(-1)[0], torch.full((6,), 2 * 16. * 4 * 16 * 16))   # two calls of the ReLU per batch

class FakeScaler:
    "A stand-in for torch.amp.GradScaler with a fixed scale: the loss is multiplied, the gradients divided before the step."
    def __init__(self, scale, skip_at=()): self.s, self.skip_at, self.n = scale, set(skip_at), 0
    def is_enabled(self): return True
    def get_scale(self): return self.s
    def scale(self, loss): return loss * self.s
    def unscale_(self, opt):
        for g in opt.param_groups:
            for p in g['params']:
                if p.grad is not None: p.grad /= self.s
    def update(self): pass

class ScaledTrainer(TrainCB):
    "A trainer following the loss-scaler protocol: sets `learn.scaler`, and `learn.step_skipped` after each step."
    def __init__(self, scaler): self.scaler = scaler
    def before_fit(self): self.learn.scaler = self.scaler
    def backward(self): self.scaler.scale(self.learn.loss).backward()
    def step(self):
        skip = self.scaler.n in self.scaler.skip_at; self.scaler.n += 1
        self.scaler.unscale_(self.learn.opt)
        if not skip: self.learn.opt.step()
        self.learn.step_skipped = skip
    def cleanup_fit(self): self.learn.scaler = None

def _grad_stats(trainer=None, n_epoch=1):
    torch.manual_seed(0); m = model(); gs = GradientStats(sample=None)
    l = Learner(m, dls(), lr=0.05, cbs=[trainer] if trainer else None); l.logger = None
    l.fit(n_epoch, cbs=[gs])
    return gs

def test_gradient_stats_record_true_gradients_under_a_loss_scaler():
    "Gradients multiplied by 1024 after backward are recorded divided by the scale: the same as without a scaler."
    ref, scaled = _grad_stats(), _grad_stats(ScaledTrainer(FakeScaler(1024.)))
    assert scaled.batches == ref.batches == list(range(6))
    for k in ('means', 'stds'): assert torch.allclose(getattr(scaled, k), getattr(ref, k), rtol=1e-5, atol=1e-12), k
    assert torch.equal(scaled.hists, ref.hists)
    t, r = scaled._table(), ref._table()
    assert torch.allclose(t[..., 2:4], r[..., 2:4], rtol=1e-5)              # mean and max |gradient|

def test_gradient_stats_leave_out_steps_the_scaler_skipped():
    gs = _grad_stats(ScaledTrainer(FakeScaler(8., skip_at=(2, 4))))
    assert gs.batches == [0, 1, 3, 5] and gs.skipped == [2, 4]
    assert gs.hists.shape[1] == 4

def test_gradient_stats_with_torch_grad_scaler_on_cpu():
    "A real torch.amp.GradScaler('cpu'): inf gradients injected at batch 2 make it skip that step; GradientStats drops it."
    class AmpTrainer(TrainCB):
        def __init__(self): self.scaler = torch.amp.GradScaler('cpu', init_scale=2.**12)
        def before_fit(self): self.learn.scaler = self.scaler
        def backward(self): self.scaler.scale(self.learn.loss).backward()
        def step(self):
            before = self.scaler.get_scale()
            self.scaler.step(self.learn.opt); self.scaler.update()
            self.learn.step_skipped = self.scaler.get_scale() < before
        def cleanup_fit(self): self.learn.scaler = None
    class Poison(Callback):
        order = 0
        def after_backward(self):
            if self.learn.train_iter == 2: next(self.learn.model.parameters()).grad[0].fill_(float('inf'))
    ref = _grad_stats()
    torch.manual_seed(0); m = model(); gs = GradientStats(sample=None)
    l = Learner(m, dls(), lr=0.05, cbs=[AmpTrainer()]); l.logger = None
    l.fit(1, cbs=[gs, Poison()])
    assert gs.skipped == [2] and gs.batches == [0, 1, 3, 4, 5]
    assert torch.isfinite(gs.means).all() and torch.isfinite(gs.stds).all()
    assert torch.allclose(gs.means[:, :2], ref.means[:, :2], rtol=1e-4, atol=1e-10)   # before the skip: the true gradients
    assert torch.allclose(gs.stds[:, :2], ref.stds[:, :2], rtol=1e-4)

def test_gradient_stats_on_a_layer_with_a_scalar_parameter():
    "A layer holding a 0-dim parameter (a learned temperature, say) is watched like any other."
    class Temp(nn.Module):
        def __init__(self): super().__init__(); self.t = nn.Parameter(torch.tensor(1.))
        def forward(self, x): return x * self.t
    m = nn.Sequential(nn.Flatten(), nn.Linear(256, 3), Temp())
    gs = GradientStats(); _learner(m, [gs]).fit(1)
    assert gs.names[-1] == '2 Temp' and gs.hists[-1].sum(-1).eq(1).all()
