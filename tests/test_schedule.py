"""Contracts of lesson 11 (`learner_course.schedule`): lr_find leaves no trace and stops by itself at divergence,
schedules match torch, step only on real optimizer steps (accumulation, fp16 skipped steps), plan in optimizer steps,
and each fit leaves the optimizer as it found it.

All data here is tiny random tensors (unit tests), so the suite runs in seconds on a CPU.
"""
import math, random, warnings
from functools import partial
import numpy as np
import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler
from learner_course.events import Callback, CancelStepException
from learner_course.schedule import (LRFinder, SuggestedLRs, LRSchedulerCB, BatchSchedCB, EpochSchedCB, OneCycleLR,
                                     WarmupCosine, lr_find)
from learner_course.tracking import EarlyStoppingCallback, SaveModelCallback, CSVLogger
from learner_course.checkpoint import Checkpoint
from learner_course.metrics import Accuracy
from sched_helpers import (make, weights, same_weights, same, snapshot, groups, ScaledTrainCB, InfGrad)


# ---- lr_find -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('opt_func', [partial(torch.optim.SGD, momentum=0.9), torch.optim.Adam], ids=['sgd', 'adam'])
def test_lr_find_restores_everything_bitwise(opt_func):
    learn = make(opt_func, metrics=[Accuracy()])
    learn.fit(2)
    np.random.rand(); random.random()                     # the states are not at their seeds' start
    before, mode = snapshot(learn), learn.model.training
    sug = learn.lr_find(num_it=30, show_plot=False)
    assert same(before, snapshot(learn))                  # weights, optimizer, lr, counters, last row, Recorder, RNG
    assert learn.model.training == mode and all(p.grad is None for p in learn.model.parameters())
    assert learn.n_epoch == 2 and learn.epoch_metrics == before[0]['epoch_metrics']
    assert isinstance(sug, SuggestedLRs) and 1e-7 <= sug.steep <= 10 and sug.minimum > 0
    assert 3 <= len(sug.lrs) <= 30


def test_lr_find_before_any_fit_leaves_no_optimizer_and_next_fit_is_unaffected():
    a, b = make(), make()
    before = snapshot(a)
    a.lr_find(num_it=20, show_plot=False)
    assert a.opt is None and same(before, snapshot(a)) and a.recorder.losses == []
    a.fit(2); b.fit(2)                                    # same seeds: looking first must not change training
    assert same_weights(weights(a), weights(b))


def test_lr_find_restores_when_the_search_fails():
    learn = make(); learn.fit(1)
    before = snapshot(learn)
    class Fail(Callback):
        def after_batch(self):
            if self.learn.train_iter > start + 3: raise RuntimeError('boom')
    start = learn.train_iter
    learn.add_cbs([Fail()])
    with pytest.raises(RuntimeError, match='boom'): learn.lr_find(num_it=20, show_plot=False)
    assert same(before, snapshot(learn))


def test_lr_find_detaches_steering_callbacks_and_puts_them_back(tmp_path):
    sm, es, log, oc, ck = (SaveModelCallback(name='best'), EarlyStoppingCallback(patience=1), CSVLogger('log.csv'),
                           OneCycleLR(), Checkpoint(every_n_batches=2))
    learn = make(path=tmp_path, cbs=[sm, es, log, oc, ck])
    order = list(learn.cbs)
    learn.lr_find(num_it=20, show_plot=False)
    assert learn.cbs == order and learn.save_model is sm and learn.early_stopping is es and learn.checkpoint is ck
    assert not (tmp_path/'models').exists() and not (tmp_path/'log.csv').exists()   # nothing saved or logged
    learn.fit(2)                                          # and they work afterwards
    assert (tmp_path/'log.csv').exists() and len(learn.recorder.lrs) == 12 and learn.recorder.lrs[0] < 0.1 / 20


def test_lr_find_stops_by_itself_on_divergence_and_nan_before_nonfinite_stop():
    learn = make()
    finder = LRFinder(1e-2, 1e8, num_it=200)
    learn.fit(40, cbs=[finder])
    assert len(finder.lrs) < 200
    class NaNLoss(Callback):
        order = 0
        def before_fit(self): self.seen = 0
        def after_loss(self):
            if not self.training: return
            if self.seen >= 5: self.learn.loss = self.learn.loss * float('nan')
            self.seen += 1
    finder = LRFinder(1e-5, 1e-3, num_it=50, stop_div=False)   # even without stop_div, a NaN ends the search
    learn.fit(20, cbs=[finder, NaNLoss()])                     # no NonFiniteError from the Learner's NonFiniteStop
    assert len(finder.lrs) == 5 and all(math.isfinite(l) for l in finder.losses)
    learn = make(); n0 = learn.train_iter
    learn.fit(20, cbs=[finder := LRFinder(1e-5, 1e-3, num_it=50), InfGrad(3)])   # a non-finite gradient, finite loss
    assert len(finder.lrs) == 3
    sug = make().lr_find(start_lr=1e-3, end_lr=1e9, num_it=100, show_plot=False)   # explodes: still suggests
    assert sug.minimum > 0


def test_lr_find_stops_when_a_loss_scaler_keeps_skipping_steps():
    "Gradients non-finite at every scale (the loss finite): ten skipped steps in a row end the search, before NonFiniteStop's 20."
    learn = make(cbs=[ScaledTrainCB(init_scale=2.**20)])
    finder = LRFinder(1e-5, 1e-3, num_it=50)
    learn.fit(10, cbs=[finder, InfGrad(*range(3, 40))])
    assert len(finder.lrs) == 12 and learn.train_iter == 12   # batches 3..12 skipped; the 10th skip ends the search


def test_lr_find_restores_the_loss_scale():
    "Under fp16 the diverging end of the search makes the scaler skip steps and lower its scale: it is put back."
    class LowestScale(Callback):
        def before_fit(self): self.low = math.inf
        def after_step(self): self.low = min(self.low, self.learn.scaler.get_scale())
    trainer, low = ScaledTrainCB(), LowestScale()
    learn = make(cbs=[trainer, low, InfGrad(8, 9)]); learn.fit(1)   # batches 8 and 9 (in the search) overflow
    scale, before = trainer.gs.get_scale(), snapshot(learn)
    learn.lr_find(num_it=20, show_plot=False)
    assert low.low == scale / 4                           # the search made the scaler skip two steps...
    assert trainer.gs.get_scale() == scale and learn.scaler is None   # ...and its scale is back
    assert same(before[0], snapshot(learn)[0])
    class OnlyProtocol(ScaledTrainCB):                    # a trainer whose state is not in state_dict: LRFinder restores it
        def state_dict(self): return {}
    t2, low2 = OnlyProtocol(), LowestScale(); l2 = make(cbs=[t2, low2, InfGrad(8)]); l2.fit(1); s2 = t2.gs.get_scale()
    l2.fit(3, cbs=[LRFinder(num_it=12)])
    assert low2.low == s2 / 2 and t2.gs.get_scale() == s2


def test_lr_find_bad_arguments():
    learn = make()
    for kw in (dict(start_lr=1, end_lr=0.1), dict(start_lr=0), dict(num_it=1)):
        with pytest.raises(ValueError): learn.lr_find(show_plot=False, **kw)
    with pytest.raises(ValueError, match='start_lr'): SuggestedLRs.from_curve([1e-3, 1e-2], [1., 10.])
    with pytest.raises(ValueError, match='num_it'): lr_find(learn, num_it=2)   # the module function, as the method calls it


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
    learn.create_opt(); before = groups(learn)
    learn.fit(4, cbs=[OneCycleLR(max_lr=0.05, pct_start=0.25, div_factor=10, final_div=1e3, moms=(0.9, 0.8, 0.9))])
    lrs, moms = torch_one_cycle(24, opt_func, max_lr=0.05, pct_start=0.25, div_factor=10, final_div_factor=100,
                                max_momentum=0.9, base_momentum=0.8)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-12)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-12)
    assert math.isclose(learn.recorder.lrs[-1], 0.05 / 1e3, rel_tol=1e-9)     # final_div divides max_lr
    i = int(np.argmax(learn.recorder.lrs)); assert learn.recorder.moms[i] == min(learn.recorder.moms)  # opposite moves
    assert groups(learn) == before                         # after the fit: the optimizer exactly as before, no extra keys


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


def test_scheduler_does_not_step_when_the_optimizer_step_is_cancelled():
    class SkipOdd(Callback):
        def before_step(self):
            if self.iter % 2: raise CancelStepException()
    learn = make()
    learn.fit(1, cbs=[SkipOdd(), BatchSchedCB(partial(lr_scheduler.LambdaLR, lr_lambda=lambda s: 1 / (s + 1)))])
    np.testing.assert_allclose(learn.recorder.lrs, [0.1, 0.05, 0.05, 0.1 / 3, 0.1 / 3, 0.025])


def test_scheduler_does_not_step_when_the_loss_scaler_skipped_the_step():
    "fp16: a GradScaler on the CPU, an infinite gradient injected at batches 2 and 3: the schedule waits for real steps."
    learn = make(cbs=[ScaledTrainCB()])
    learn.fit(1, cbs=[InfGrad(2, 3), BatchSchedCB(partial(lr_scheduler.LambdaLR, lr_lambda=lambda s: 1 / (s + 1)))])
    np.testing.assert_allclose(learn.recorder.lrs, [0.1, 0.05, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.025])
    ref, learn = make(cbs=[ScaledTrainCB()]), make(cbs=[ScaledTrainCB()])   # one-cycle: the skipped step is taken later
    ref.fit(2, cbs=[OneCycleLR(max_lr=0.1)]); learn.fit(2, cbs=[InfGrad(4), OneCycleLR(max_lr=0.1)])
    assert learn.recorder.lrs == ref.recorder.lrs[:5] + ref.recorder.lrs[4:11]


def test_one_cycle_plans_in_optimizer_steps_under_accumulation():
    "A callback that steps once every n_acc batches declares n_acc: the cycle spans ceil(6/4) = 2 steps per epoch."
    class Accumulate(Callback):
        n_acc = 4
        def before_step(self):
            if (self.iter + 1) % 4 and self.iter + 1 != len(self.dl): raise CancelStepException()
    learn, oc = make(), OneCycleLR(max_lr=0.1)
    learn.fit(3, cbs=[Accumulate(), oc])
    assert oc.sched.total_steps == 6 and oc.sched.last_epoch == 5
    assert math.isclose(learn.recorder.lrs[-1], 0.1 / 1e4, rel_tol=1e-9)      # the cycle ends with the fit
    lrs, _ = torch_one_cycle(6, torch.optim.SGD, max_lr=0.1, final_div_factor=1e4 / 25)
    np.testing.assert_allclose(learn.recorder.lrs[3::6], lrs[0::2], rtol=1e-12)   # 4th batch of each epoch: 2 steps per epoch


def test_warmup_cosine():
    learn = make()
    learn.fit(2, cbs=[WarmupCosine(warmup=3, final=0.5)])
    np.testing.assert_allclose(learn.recorder.lrs[:3], [0.1 / 3, 0.2 / 3, 0.1])
    assert learn.recorder.lrs[-1] == pytest.approx(0.05)


def test_scheduler_state_exists_only_during_a_fit():
    learn, cb = make(), OneCycleLR(max_lr=0.2)
    assert cb.state_dict() == {}
    seen = {}
    class Peek(Callback):
        order = 60
        def after_batch(self):
            if self.iter == 2: seen.update(cb.state_dict())
    learn.fit(1, cbs=[cb, Peek()])
    assert set(seen) == {'sched', 'groups', 'groups0'} and 'initial_lr' in seen['groups'][0]
    assert 'initial_lr' not in seen['groups0'][0] and cb.state_dict() == {}
    cb.load_state_dict(seen)                              # outside a fit: nothing to load into, ignored
    learn.fit(1, cbs=[cb]); assert learn.recorder.lrs[6] == learn.recorder.lrs[0]   # the next fit starts the cycle afresh


@pytest.mark.parametrize('make_cb,msg', [
    (lambda: OneCycleLR(max_lr=0), 'max_lr'), (lambda: OneCycleLR(pct_start=0), 'pct_start'),
    (lambda: OneCycleLR(moms=(0.95, 0.85, 0.9)), 'moms'), (lambda: OneCycleLR(div_factor=-1), 'div_factor'),
    (lambda: LRSchedulerCB(lambda o: None, every='iteration'), 'every'), (lambda: BatchSchedCB('cos'), 'callable'),
    (lambda: WarmupCosine(warmup=-1), 'warmup'), (lambda: WarmupCosine(n_epoch=0), 'n_epoch')])
def test_bad_arguments_fail_at_construction(make_cb, msg):
    with pytest.raises((ValueError, TypeError), match=msg): make_cb()
