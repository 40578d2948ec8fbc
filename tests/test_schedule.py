"""Contracts of lesson 07 (`learner_course.schedule`): lr_find leaves no trace, schedules match torch, early stopping,
best-model saving, CSV logs, exact resumption from checkpoints, atomic writes, and errors before training.

All data here is tiny random tensors (unit tests), so the suite runs in seconds on a CPU.
"""
import copy, math, random, warnings
from functools import partial
import numpy as np
import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset
from learner_course.learner import Learner, Callback, set_seed
from learner_course.metrics import Accuracy
from learner_course.schedule import (LRFinder, SuggestedLRs, LRSchedulerCB, BatchSchedCB, EpochSchedCB, OneCycleLR,
                                     WarmupCosine, ReduceLROnPlateau, EarlyStoppingCallback, SaveModelCallback,
                                     CSVLogger, Checkpoint, MonitorCallback, get_rng_state, set_rng_state)


def tiny_dls(n=96, bs=16, seed=0):
    "Random 4-feature, 3-class data; the training loader shuffles with a seeded generator (like fashion_dls)."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g); y = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
    return (DataLoader(TensorDataset(x, y), bs, shuffle=True, generator=torch.Generator().manual_seed(seed)),
            DataLoader(TensorDataset(x[:32], y[:32]), bs))

def model(): return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

def make(opt_func=partial(torch.optim.SGD, momentum=0.9), lr=0.1, seed=0, **kw):
    set_seed(seed)
    learn = Learner(model(), tiny_dls(), lr=lr, opt_func=opt_func, **kw)
    learn.logger = lambda row: None
    return learn

def weights(learn): return [p.detach().clone() for p in learn.model.parameters()]

def same_weights(a, b): return all(torch.equal(x, y) for x, y in zip(a, b))

def opt_snapshot(learn):
    if learn.opt is None: return None
    return copy.deepcopy(learn.opt.state_dict())

def same_opt(a, b):
    if a is None or b is None: return a is None and b is None
    if a['param_groups'] != b['param_groups'] or a['state'].keys() != b['state'].keys(): return False
    return all(torch.equal(a['state'][k][n], b['state'][k][n]) if isinstance(a['state'][k][n], torch.Tensor)
               else a['state'][k][n] == b['state'][k][n] for k in a['state'] for n in a['state'][k])

def rng_snapshot(learn):
    return (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate(), learn.dls.train.generator.get_state())

def same_rng(a, b):
    return torch.equal(a[0], b[0]) and (a[1] == b[1]).all() and a[2] == b[2] and torch.equal(a[3], b[3])

class Scripted(Callback):
    "Overwrite `valid_loss` in each epoch row with scripted values (runs after MetricsCB, before the watchers)."
    order = 0
    def __init__(self, values): self.values = list(values)
    def after_epoch(self): self.learn.epoch_metrics['valid_loss'] = self.values[self.learn.epoch]

class CountBatches(Callback):
    order = 1
    def __init__(self): self.n = 0
    def after_batch(self): self.n += 1


# ---- lr_find -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('opt_func', [partial(torch.optim.SGD, momentum=0.9), torch.optim.Adam], ids=['sgd', 'adam'])
def test_lr_find_restores_everything_bitwise(opt_func):
    learn = make(opt_func)
    learn.fit(2)
    np.random.rand(); random.random()                     # make sure these states are not at their seeds' start
    w, o, r = weights(learn), opt_snapshot(learn), rng_snapshot(learn)
    rec = [list(getattr(learn.recorder, k)) for k in ('losses', 'lrs', 'moms', 'values', 'epoch_iters')]
    train_iter, lr, em = learn.train_iter, learn.lr, dict(learn.epoch_metrics)
    sug = learn.lr_find(num_it=30, show_plot=False)
    assert same_weights(w, weights(learn))
    assert same_opt(o, opt_snapshot(learn))
    assert same_rng(r, rng_snapshot(learn))
    assert rec == [list(getattr(learn.recorder, k)) for k in ('losses', 'lrs', 'moms', 'values', 'epoch_iters')]
    assert (learn.train_iter, learn.lr, learn.epoch_metrics) == (train_iter, lr, em)
    assert isinstance(sug, SuggestedLRs) and 1e-7 <= sug.steep <= 10 and sug.minimum > 0
    assert 3 <= len(sug.lrs) <= 30


def test_lr_find_before_any_fit_leaves_no_optimizer_and_next_fit_is_unaffected():
    a, b = make(), make()
    a.lr_find(num_it=20, show_plot=False)
    assert a.opt is None and not hasattr(a.recorder, 'x') and a.recorder.losses == []
    a.fit(2); b.fit(2)                                    # same seeds: looking first must not change training
    assert same_weights(weights(a), weights(b))


def test_lr_find_restores_when_the_search_fails():
    learn = make(); learn.fit(1)
    w, o, r = weights(learn), opt_snapshot(learn), rng_snapshot(learn)
    class Fail(Callback):
        def after_batch(self):
            if self.train_iter > learn_iter + 3: raise RuntimeError('boom')
    learn_iter = learn.train_iter
    learn.add_cbs([Fail()])
    with pytest.raises(RuntimeError, match='boom'): learn.lr_find(num_it=20, show_plot=False)
    assert same_weights(w, weights(learn)) and same_opt(o, opt_snapshot(learn)) and same_rng(r, rng_snapshot(learn))


def test_lr_find_detaches_steering_callbacks_and_puts_them_back(tmp_path):
    sm, es, log, oc = SaveModelCallback(name='best'), EarlyStoppingCallback(patience=1), CSVLogger('log.csv'), OneCycleLR()
    learn = make(path=tmp_path, cbs=[sm, es, log, oc])
    order = list(learn.cbs)
    learn.lr_find(num_it=20, show_plot=False)
    assert learn.cbs == order and learn.save_model is sm and learn.early_stopping is es
    assert not (tmp_path/'models').exists() and not (tmp_path/'log.csv').exists()   # nothing saved or logged
    learn.fit(2)                                          # and they work afterwards
    assert (tmp_path/'log.csv').exists() and len(learn.recorder.lrs) == 12 and learn.recorder.lrs[0] < 0.1 / 20


def test_lr_find_stops_on_divergence_and_nan():
    learn = make()
    finder = LRFinder(1e-2, 1e8, num_it=200)
    learn.fit(40, cbs=[finder])
    assert len(finder.lrs) < 200
    class NaNLoss(Callback):
        order = 0
        def after_loss(self):
            if self.training and self.train_iter >= 5: self.learn.loss = self.learn.loss * float('nan')
    learn = make(); finder = LRFinder(1e-5, 1e-3, num_it=50, stop_div=True)
    learn.fit(20, cbs=[finder, NaNLoss()])
    assert len(finder.lrs) == 5 and all(math.isfinite(l) for l in finder.losses)


def test_lr_find_bad_arguments():
    learn = make()
    for kw in (dict(start_lr=1, end_lr=0.1), dict(start_lr=0), dict(num_it=1)):
        with pytest.raises(ValueError): learn.lr_find(show_plot=False, **kw)
    with pytest.raises(ValueError, match='start_lr'): SuggestedLRs.from_curve([1e-3, 1e-2], [1., 10.])


# ---- schedules -----------------------------------------------------------------------------------------------------

def torch_one_cycle(n, opt_func, **kw):
    opt = opt_func(nn.Linear(1, 1).parameters(), lr=0.1)
    s, lrs, moms = lr_scheduler.OneCycleLR(opt, total_steps=n, **kw), [], []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(n):
            pg = opt.param_groups[0]; lrs.append(pg['lr']); moms.append(pg['betas'][0] if 'betas' in pg else pg['momentum'])
            s.step()
    return lrs, moms

@pytest.mark.parametrize('opt_func', [torch.optim.SGD, torch.optim.AdamW], ids=['sgd', 'adamw'])
def test_one_cycle_lr_and_momentum_match_torch(opt_func):
    learn = make(opt_func)
    learn.fit(4, cbs=[OneCycleLR(max_lr=0.05, pct_start=0.25, div_factor=10, final_div=1e3, moms=(0.9, 0.8, 0.9))])
    lrs, moms = torch_one_cycle(24, opt_func, max_lr=0.05, pct_start=0.25, div_factor=10, final_div_factor=100,
                                max_momentum=0.9, base_momentum=0.8)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-12)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-12)
    assert math.isclose(learn.recorder.lrs[-1], 0.05 / 1e3, rel_tol=1e-9)     # final_div divides max_lr
    i = int(np.argmax(learn.recorder.lrs)); assert learn.recorder.moms[i] == min(learn.recorder.moms)  # opposite moves
    pg = learn.opt.param_groups[0]                         # after the fit: the optimizer as before
    assert pg['lr'] == 0.1 and 'initial_lr' not in pg and 'max_lr' not in pg


def test_one_cycle_defaults_and_longer_fit_keeps_last_lr():
    learn = make(lr=0.02)
    learn.fit(3, cbs=[OneCycleLR(n_epoch=2)])             # schedule of 2 epochs in a 3-epoch fit
    lrs = learn.recorder.lrs
    assert math.isclose(max(lrs), 0.02, rel_tol=1e-2) and lrs[0] == pytest.approx(0.02 / 25)
    assert lrs[12:] == [lrs[11]] * 6


def test_epoch_and_batch_schedulers_record_the_lr_each_batch_used():
    learn = make()
    learn.fit(3, cbs=[EpochSchedCB(partial(lr_scheduler.StepLR, step_size=1, gamma=0.1))])
    np.testing.assert_allclose(learn.recorder.lrs, [0.1] * 6 + [0.01] * 6 + [0.001] * 6)
    learn.recorder.reset()
    learn.fit(1, lr=0.05, cbs=[BatchSchedCB(partial(lr_scheduler.LambdaLR, lr_lambda=lambda s: s + 1))])
    np.testing.assert_allclose(learn.recorder.lrs, [0.05 * (s + 1) for s in range(6)])   # uses the new lr, not a stale one


def test_scheduler_does_not_step_when_optimizer_step_is_skipped():
    from learner_course.learner import CancelStepException
    class SkipOdd(Callback):
        def before_step(self):
            if self.iter % 2: raise CancelStepException()
    learn = make()
    learn.fit(1, cbs=[SkipOdd(), BatchSchedCB(partial(lr_scheduler.LambdaLR, lr_lambda=lambda s: 1 / (s + 1)))])
    np.testing.assert_allclose(learn.recorder.lrs, [0.1, 0.05, 0.05, 0.1 / 3, 0.1 / 3, 0.025])


def test_warmup_cosine_and_reduce_on_plateau():
    learn = make()
    learn.fit(2, cbs=[WarmupCosine(warmup=3, final=0.5)])
    np.testing.assert_allclose(learn.recorder.lrs[:3], [0.1 / 3, 0.2 / 3, 0.1])
    assert learn.recorder.lrs[-1] == pytest.approx(0.05)
    learn = make(metrics=[Accuracy()])
    class ScriptAcc(Callback):
        order = 0
        def after_epoch(self): self.learn.epoch_metrics['accuracy'] = [0.5, 0.6, 0.6, 0.6, 0.6][self.learn.epoch]
    learn.fit(5, cbs=[ScriptAcc(), ReduceLROnPlateau('accuracy', patience=1, factor=0.5)])   # 'auto' -> max for accuracy
    np.testing.assert_allclose(learn.recorder.lrs[::6], [0.1, 0.1, 0.1, 0.1, 0.05])


# ---- early stopping, best model, CSV -------------------------------------------------------------------------------

def test_early_stopping_stops_at_the_right_epoch(tmp_path):
    learn, log, count = make(path=tmp_path), CSVLogger('log.csv'), CountBatches()
    es = EarlyStoppingCallback(patience=3)
    learn.fit(10, cbs=[Scripted([1.0, 0.8, 0.6, 0.5, 0.5, 0.51, 0.52, 0.53, 0.1, 0.1]), es, log, count, Checkpoint()])
    assert es.stopped_epoch == 6 and len(learn.recorder.values) == 7 and (es.best, es.best_epoch) == (0.5, 3)
    assert count.n == 7 * 8 and len(log.read()) == 7     # no batch of epoch 7; the last epoch is logged ...
    assert torch.load(tmp_path/'models'/'checkpoint.pth', weights_only=True)['epoch'] == 6   # ... and checkpointed
    es = EarlyStoppingCallback(patience=2)                # it resets at each fit
    learn.fit(5, cbs=[Scripted([3, 2, 1, 0.5, 0.4]), es])
    assert es.stopped_epoch is None and len(learn.recorder.values) == 12
    es = EarlyStoppingCallback('accuracy', patience=1)    # mode 'auto': higher accuracy is better
    learn = make(metrics=[Accuracy()])
    class ScriptAcc(Callback):
        order = 0
        def after_epoch(self): self.learn.epoch_metrics['accuracy'] = [0.5, 0.7, 0.6][self.learn.epoch]
    learn.fit(3, cbs=[ScriptAcc(), es])
    assert es.stopped_epoch == 2 and es.best == 0.7


def test_save_model_keeps_and_reloads_the_best(tmp_path):
    class Snap(Callback):
        order = 85
        def before_fit(self): self.w = []
        def after_epoch(self): self.w.append(weights(self.learn))
    learn, snap = make(path=tmp_path), Snap()
    sm = SaveModelCallback(monitor='valid_loss', name='best_model')
    learn.fit(10, cbs=[Scripted([0.9, 0.5, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1]), sm, EarlyStoppingCallback(patience=3), snap])
    assert (sm.best_epoch, len(snap.w)) == (1, 5)
    assert same_weights(weights(learn), snap.w[1]) and not same_weights(snap.w[1], snap.w[-1])
    assert (tmp_path/'models'/'best_model.pth').exists()
    assert not list((tmp_path/'models').glob('.*tmp*'))   # atomic writes leave no temporary files


def test_save_model_first_positional_argument(tmp_path):
    learn = make(path=tmp_path, metrics=[Accuracy()])
    for args, kw, want in ((('best_model',), {}, ('valid_loss', 'best_model')),
                           (('accuracy',), {}, ('accuracy', 'best_model')),
                           (('accuracy',), dict(name='acc'), ('accuracy', 'acc')),
                           ((), dict(name='best_cifar10'), ('valid_loss', 'best_cifar10'))):
        sm = SaveModelCallback(*args, **kw)
        learn.fit(1, cbs=[sm])
        assert (sm.monitor, sm.fname, sm.mode) == (*want, 'min' if want[0] == 'valid_loss' else 'max')
        assert (tmp_path/'models'/f'{want[1]}.pth').exists()


def test_monitor_errors_come_before_any_training(tmp_path):
    learn = make(path=tmp_path, metrics=[Accuracy()])
    for cb, msg in ((EarlyStoppingCallback('val_loss'), "Did you mean 'valid_loss'"),
                    (SaveModelCallback('valid_los'), 'Did you mean'),
                    (SaveModelCallback('f1', name='best'), "available: \\['train_loss', 'valid_loss', 'accuracy'\\]"),
                    (ReduceLROnPlateau('top5'), 'available')):
        count = CountBatches()
        with pytest.raises(ValueError, match=msg): learn.fit(3, cbs=[count, cb])
        assert count.n == 0
    with pytest.raises(ValueError, match='valid=False'): learn.fit(1, valid=False, cbs=[EarlyStoppingCallback()])


@pytest.mark.parametrize('make_cb,msg', [
    (lambda: EarlyStoppingCallback(patience=0), 'patience'), (lambda: EarlyStoppingCallback(patience=1.5), 'patience'),
    (lambda: EarlyStoppingCallback(mode='minimum'), 'mode'), (lambda: SaveModelCallback(mode='best'), 'mode'),
    (lambda: EarlyStoppingCallback(min_delta=-0.1), 'min_delta'), (lambda: ReduceLROnPlateau(factor=1.5), 'factor'),
    (lambda: ReduceLROnPlateau(mode='up'), 'mode'), (lambda: OneCycleLR(max_lr=0), 'max_lr'),
    (lambda: OneCycleLR(pct_start=0), 'pct_start'), (lambda: OneCycleLR(moms=(0.95, 0.85, 0.9)), 'moms'),
    (lambda: LRSchedulerCB(lambda o: None, every='iteration'), 'every'), (lambda: BatchSchedCB('cos'), 'callable'),
    (lambda: WarmupCosine(warmup=-1), 'warmup'), (lambda: Checkpoint(every=0), 'every')])
def test_bad_arguments_fail_at_construction(make_cb, msg):
    with pytest.raises((ValueError, TypeError), match=msg): make_cb()


def test_csv_logger_rows_flush_and_close(tmp_path):
    learn = make(path=tmp_path, metrics=[Accuracy()])
    log = CSVLogger('hist/log.csv')
    class CheckOnDisk(Callback):
        order = 99
        def after_epoch(self): self.rows = len((tmp_path/'hist'/'log.csv').read_text().strip().split('\n'))
    chk = CheckOnDisk()
    learn.fit(3, cbs=[log, chk])
    assert chk.rows == 4                                  # header + 3 rows, already on disk during the fit
    rows = log.read()
    assert [r['epoch'] for r in rows] == [0, 1, 2] and list(rows[0]) == ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'time']
    assert [r['valid_loss'] for r in rows] == pytest.approx([v['valid_loss'] for v in learn.recorder.values])
    assert log.file is None
    learn.fit(1, cbs=[CSVLogger('hist/log.csv', append=True)]); assert len(log.read()) == 4
    other = make(path=tmp_path)                           # a log without an accuracy column ...
    other.fit(1, cbs=[CSVLogger('other.csv')])
    with pytest.raises(ValueError, match='columns'):      # ... cannot take rows with one
        learn.fit(1, cbs=[CSVLogger('other.csv', append=True)])
    other.fit(1, cbs=[CSVLogger('hist/log.csv', append=True)])   # fewer columns are fine: left empty
    assert log.read()[-1]['accuracy'] == ''


# ---- checkpoints and resume ----------------------------------------------------------------------------------------

SCHEDS = {'one_cycle': lambda total: OneCycleLR(max_lr=0.2, n_epoch=total),
          'warmup_cos': lambda total: WarmupCosine(warmup=0.3, n_epoch=total),
          'step_epoch': lambda total: EpochSchedCB(partial(lr_scheduler.StepLR, step_size=2, gamma=0.5))}

@pytest.mark.parametrize('sched', list(SCHEDS))
def test_resume_equals_uninterrupted_training(sched, tmp_path):
    N, M = 2, 3
    full = make(path=tmp_path)
    full.fit(N + M, cbs=[SCHEDS[sched](N + M)])
    part = make(path=tmp_path)
    cb = SCHEDS[sched](N + M)
    part.fit(N, cbs=[cb])
    part.save_checkpoint('ck', cbs=[cb])
    torch.manual_seed(123); np.random.seed(1); random.seed(2)            # anything in between must not matter
    fresh = make(path=tmp_path, seed=99)                                   # new model object, other initial weights
    fresh.load_checkpoint('ck')
    fresh.fit(M, cbs=[SCHEDS[sched](N + M)])
    assert same_weights(weights(full), weights(fresh))
    assert fresh.recorder.lrs == full.recorder.lrs and fresh.train_iter == full.train_iter
    assert same_opt(opt_snapshot(full), opt_snapshot(fresh))


def test_checkpoint_callback_and_fit_resume_after_a_crash(tmp_path):
    full = make(path=tmp_path)
    full.fit(5, cbs=[OneCycleLR(max_lr=0.2)])
    class Crash(Callback):
        order = 99
        def after_epoch(self):
            if self.epoch == 2: raise KeyboardInterrupt
    part = make(path=tmp_path)
    with pytest.raises(KeyboardInterrupt): part.fit(5, cbs=[OneCycleLR(max_lr=0.2), Checkpoint(), Crash()])
    fresh = make(path=tmp_path, seed=5)
    fresh.load_checkpoint('checkpoint')
    assert fresh.remaining_epochs == 2 and fresh.epoch == 2
    fresh.fit_resume(cbs=[OneCycleLR(max_lr=0.2)])
    assert same_weights(weights(full), weights(fresh))
    assert [r['valid_loss'] for r in fresh.recorder.values] == pytest.approx([r['valid_loss'] for r in full.recorder.values])


def test_resume_keeps_the_best_so_far_of_watchers(tmp_path):
    learn = make(path=tmp_path)
    learn.fit(3, cbs=[Scripted([0.5, 0.9, 0.9]), EarlyStoppingCallback(patience=3), SaveModelCallback(name='best'), Checkpoint()])
    best = (tmp_path/'models'/'best.pth').read_bytes()
    fresh = make(path=tmp_path, seed=1); fresh.load_checkpoint('checkpoint')
    es, sm = EarlyStoppingCallback(patience=3), SaveModelCallback(name='best')
    fresh.fit(3, cbs=[Scripted([0.8, 0.7, 0.7]), es, sm])
    assert es.stopped_epoch == 0 and es.wait == 3          # two bad epochs before the checkpoint, a third after it
    assert (tmp_path/'models'/'best.pth').read_bytes() == best      # 0.8 did not overwrite the best (0.5)
    sd = torch.load(tmp_path/'models'/'best.pth', weights_only=True)['model']
    assert all(torch.equal(v, fresh.model.state_dict()[k]) for k, v in sd.items())   # and the best was reloaded


def test_resume_warns_about_callbacks_left_out(tmp_path):
    learn = make(path=tmp_path); cb = OneCycleLR()
    learn.fit(1, cbs=[cb]); learn.save_checkpoint('ck', cbs=[cb])
    fresh = make(path=tmp_path); fresh.load_checkpoint('ck')
    with pytest.warns(UserWarning, match='one_cycle_lr'): fresh.fit(1)


def test_gradscaler_held_by_a_callback_is_saved(tmp_path):
    class WithScaler(Callback):
        def __init__(self): self.scaler = torch.amp.GradScaler('cpu', init_scale=1024., enabled=True)
    cb = WithScaler(); cb.scaler._scale = torch.tensor(256.); cb.scaler._growth_tracker = torch.tensor(7, dtype=torch.int32)
    learn = make(path=tmp_path, cbs=[cb]); learn.fit(1); learn.save_checkpoint('ck')
    cb2 = WithScaler(); fresh = make(path=tmp_path, cbs=[cb2]); fresh.load_checkpoint('ck'); fresh.fit(1)
    assert cb2.scaler.get_scale() == 256. and cb2.scaler._get_growth_tracker() == 7


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    learn = make(path=tmp_path); learn.fit(1)
    f = learn.save_checkpoint('ck')
    w1 = weights(learn)
    learn.fit(1)
    real_save = torch.save
    def half_save(obj, path, *a, **k):
        with open(path, 'wb') as fh: fh.write(b'PK\x03\x04 half a checkpoint')
        raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', half_save)
    with pytest.raises(OSError, match='disk full'): learn.save_checkpoint('ck')
    monkeypatch.setattr(torch, 'save', real_save)
    assert [p.name for p in f.parent.iterdir()] == ['ck.pth']           # no temporary file left behind
    fresh = make(path=tmp_path, seed=3); fresh.load_checkpoint('ck')
    assert same_weights(w1, weights(fresh))                              # the previous checkpoint, intact


def test_bad_checkpoints_are_refused_and_change_nothing(tmp_path):
    learn = make(path=tmp_path); learn.fit(1)
    adam = make(torch.optim.Adam, path=tmp_path); adam.fit(1); adam.save_checkpoint('adam')
    wide = Learner(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), tiny_dls(), path=tmp_path)
    wide.save_checkpoint('wide')
    unshuffled = Learner(model(), (DataLoader(tiny_dls()[0].dataset, 16), tiny_dls()[1]), path=tmp_path)
    unshuffled.save_checkpoint('unshuffled')
    (tmp_path/'models'/'junk.pth').write_bytes(b'\x00' * 100)
    learn.save(tmp_path/'models'/'plain.pth')
    good = learn.save_checkpoint('good')
    ck = torch.load(good, weights_only=True); ck['rng']['torch'] = torch.zeros(3, dtype=torch.uint8)
    torch.save(ck, tmp_path/'models'/'badrng.pth')
    w, o, r = weights(learn), opt_snapshot(learn), rng_snapshot(learn)
    for name, msg in (('adam', 'different optimizer'), ('wide', 'does not fit this model'), ('junk', 'not a readable'),
                      ('plain', 'not a checkpoint from save_checkpoint'), ('missing', 'no checkpoint'),
                      ('unshuffled', 'generator'), ('badrng', 'unchanged')):
        with pytest.raises((ValueError, FileNotFoundError), match=msg): learn.load_checkpoint(name)
        assert same_weights(w, weights(learn)) and same_opt(o, opt_snapshot(learn)) and same_rng(r, rng_snapshot(learn))
    fresh = make(path=tmp_path)                                           # no optimizer yet: still none after a failure
    with pytest.raises(ValueError): fresh.load_checkpoint('badrng')
    assert fresh.opt is None


def test_rng_state_roundtrip_includes_dataloader_shuffle():
    dls = tiny_dls()
    s = get_rng_state(dls)
    a = [yb for _, yb in dls[0]], torch.rand(2), np.random.rand(), random.random()
    set_rng_state(s, dls)
    b = [yb for _, yb in dls[0]], torch.rand(2), np.random.rand(), random.random()
    assert torch.equal(torch.cat(a[0]), torch.cat(b[0])) and torch.equal(a[1], b[1]) and a[2:] == b[2:]
