"""Contracts of lesson 13 (`learner_course.checkpoint`): a resumed fit — from an epoch boundary or from the middle of an
epoch, with or without schedules, with loader workers, random augmentation and dropout — ends bit for bit where the
uninterrupted one ends, and so does the fit after it; trackers and logs resume; checkpoints are written atomically,
checked before anything changes, and refused when damaged; the optimizer's state follows the model's device.

All data here is tiny random tensors (unit tests), so the suite runs in seconds on a CPU (the worker test: a few more).
"""
import socket, warnings
from functools import partial
import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader
from learner_course.events import Callback, CancelFitException, CancelStepException
from learner_course.learner import Learner
from learner_course.callbacks import DeviceCB
from learner_course.rng import get_rng_state, set_rng_state
from learner_course.metrics import Accuracy
from learner_course.schedule import OneCycleLR, WarmupCosine, EpochSchedCB
from learner_course.tracking import EarlyStoppingCallback, SaveModelCallback, CSVLogger
from learner_course.checkpoint import Checkpoint, ResumePoint, save_checkpoint
from sched_helpers import (tiny_dls, model, make, weights, same_weights, max_diff, same, snapshot, groups, Scripted,
                           Crash, ScaledTrainCB, InfGrad)

SCHEDS = {'none': lambda: [],
          'one_cycle': lambda: [OneCycleLR(max_lr=0.2)],
          'warmup_cos': lambda: [WarmupCosine(warmup=0.3)],
          'step_epoch': lambda: [EpochSchedCB(partial(lr_scheduler.StepLR, step_size=2, gamma=0.5))]}

def interrupted(make_learner, n_epoch, cbs, crash, **ck):
    "Fit with a `Checkpoint` and a crash; then a fresh learner (other seed) loads the checkpoint and resumes. Returns it."
    part = make_learner(seed=0)
    with pytest.raises(KeyboardInterrupt): part.fit(n_epoch, cbs=cbs() + [Checkpoint(**ck), crash])
    torch.manual_seed(123)                                 # whatever happens in between must not matter
    fresh = make_learner(seed=99)
    fresh.load_checkpoint(ck.get('name', 'checkpoint'))
    fresh.fit_resume(cbs=cbs())
    return fresh

def assert_same_run(full, fresh, rf=None, rr=None):
    "Weights, history, counters, optimizer state and settings, random states (`rf`, `rr` at the end of each run): all equal."
    assert max_diff(full, fresh) == 0. and same_weights(weights(full), weights(fresh))
    assert fresh.recorder.lrs == full.recorder.lrs and fresh.recorder.moms == full.recorder.moms
    assert fresh.recorder.losses == full.recorder.losses
    assert [dict(r, time=0) for r in fresh.recorder.values] == [dict(r, time=0) for r in full.recorder.values]
    assert (fresh.train_iter, fresh.epoch, fresh.n_epoch) == (full.train_iter, full.epoch, full.n_epoch)
    assert groups(fresh) == groups(full)                   # lr, momentum as before the fit; no scheduler keys left
    assert same(fresh.opt.state_dict()['state'], full.opt.state_dict()['state'])
    if rf is not None: assert same(rf, rr)

def next_fit_is_the_same(full, fresh, rf, rr):
    "A later plain fit from the random states `rf`, `rr` each run ended with gives the same weights."
    set_rng_state(rf, full.dls); full.fit(1)
    set_rng_state(rr, fresh.dls); fresh.fit(1)
    return same_weights(weights(full), weights(fresh))


@pytest.mark.parametrize('sched', list(SCHEDS))
def test_resume_at_an_epoch_boundary_equals_uninterrupted_training(sched, tmp_path):
    mk = partial(make, path=tmp_path, dropout=0.1, metrics=[Accuracy()])
    full = mk(); full.fit(5, cbs=SCHEDS[sched]()); rf = get_rng_state(full.dls)
    fresh = interrupted(mk, 5, SCHEDS[sched], Crash(epoch=1))
    rr = get_rng_state(fresh.dls)
    assert_same_run(full, fresh, rf, rr)
    assert next_fit_is_the_same(full, fresh, rf, rr)


@pytest.mark.parametrize('workers', [0, 2], ids=['in_process', 'two_workers'])
def test_resume_mid_epoch_is_exact_with_shuffling_workers_augmentation_and_dropout(workers, tmp_path):
    "Checkpoint every 4 batches, crash at the 17th: the resumed fit starts in epoch 2 after 4 of its 6 batches."
    mk = lambda seed=0: make(path=tmp_path, seed=seed, dropout=0.2, metrics=[Accuracy()],
                             dls=tiny_dls(workers=workers, noisy=True))
    cbs = lambda: [OneCycleLR(max_lr=0.2)]
    full = mk(); full.fit(4, cbs=cbs()); rf = get_rng_state(full.dls)
    part = mk()
    with pytest.raises(KeyboardInterrupt): part.fit(4, cbs=cbs() + [Checkpoint('mid', every_n_batches=4), Crash(batches=17)])
    fresh = mk(seed=99); fresh.load_checkpoint('mid')
    rp = fresh.resume_point
    assert isinstance(rp, ResumePoint) and (rp.epoch, rp.n_epoch, rp.batches) == (2, 4, 4)
    seen = []
    class Where(Callback):                                 # what the callbacks of the resumed fit see
        order = 0
        def before_batch(self):
            if self.training: seen.append((self.epoch, self.iter, self.n_epoch, len(self.dl)))
    fresh.fit_resume(cbs=cbs() + [Where()])
    assert seen[:3] == [(2, 4, 4, 6), (2, 5, 4, 6), (3, 0, 4, 6)]
    rr = get_rng_state(fresh.dls)
    assert_same_run(full, fresh, rf, rr)
    assert next_fit_is_the_same(full, fresh, rf, rr)


def test_mid_epoch_checkpoints_wait_for_a_real_step_and_resume_at_an_epoch_end(tmp_path):
    "With accumulation (a step every other batch), a checkpoint due at an odd batch waits; the last batch of an epoch works."
    class EveryOther(Callback):
        n_acc = 2
        def before_step(self):
            if self.iter % 2 == 0: raise CancelStepException()
    mk = partial(make, path=tmp_path)
    full = mk(); full.fit(3, cbs=[EveryOther(), OneCycleLR(max_lr=0.2)])
    part = mk()
    with pytest.raises(KeyboardInterrupt):
        part.fit(3, cbs=[EveryOther(), OneCycleLR(max_lr=0.2), Checkpoint(every_n_batches=3, every=10), Crash(batches=13)])
    fresh = mk(seed=5); fresh.load_checkpoint('checkpoint')
    assert (fresh.resume_point.epoch, fresh.resume_point.batches) == (1, 6)   # due at 9 (no step), saved at 10; then 12
    fresh.fit_resume(cbs=[EveryOther(), OneCycleLR(max_lr=0.2)])
    assert_same_run(full, fresh)


def test_a_resumed_fit_can_be_interrupted_and_resumed_again(tmp_path):
    mk = partial(make, path=tmp_path, dropout=0.1)
    cbs = lambda: [OneCycleLR(max_lr=0.2)]
    full = mk(); full.fit(5, cbs=cbs())
    first = mk()
    with pytest.raises(KeyboardInterrupt): first.fit(5, cbs=cbs() + [Checkpoint(every_n_batches=5), Crash(batches=8)])
    second = mk(seed=4); second.load_checkpoint('checkpoint')
    with pytest.raises(KeyboardInterrupt):
        second.fit_resume(cbs=cbs() + [Checkpoint(every_n_batches=5), Crash(batches=23)])
    third = mk(seed=5); third.load_checkpoint('checkpoint')
    assert (third.resume_point.epoch, third.resume_point.batches) == (3, 2)
    third.fit_resume(cbs=cbs())
    assert_same_run(full, third)


def test_fit_resume_arguments_and_errors(tmp_path):
    learn = make(path=tmp_path)
    with pytest.raises(ValueError, match='load_checkpoint'): learn.fit_resume()
    learn.fit(2); learn.save_checkpoint('done')               # saved after its last epoch
    fresh = make(path=tmp_path); fresh.load_checkpoint('done')
    with pytest.raises(ValueError, match='no epochs left'): fresh.fit_resume()
    fresh.fit_resume(3)                                       # three more epochs, numbered on
    assert fresh.epoch == 4 and fresh.n_epoch == 5 and fresh.train_iter == 5 * 6
    with pytest.raises(ValueError, match='load_checkpoint'): fresh.fit_resume()   # a resume point is used once


def test_resume_warns_about_callbacks_left_out(tmp_path):
    learn = make(path=tmp_path)
    with pytest.raises(KeyboardInterrupt): learn.fit(3, cbs=[OneCycleLR(), Checkpoint(), Crash(epoch=0)])
    fresh = make(path=tmp_path); fresh.load_checkpoint('checkpoint')
    with pytest.warns(UserWarning, match='one_cycle_lr'): fresh.fit_resume()


def test_trackers_and_the_log_resume(tmp_path):
    "Early stopping's patience, the best model and the CSV log continue; rows written after the checkpoint are not kept twice."
    vals = [0.9, 0.5, 0.8, 0.7, 0.6, 0.55, 0.52, 0.51]   # best at epoch 1; patience 3 stops after epoch 4
    mk = lambda seed=0: make(path=tmp_path, seed=seed, cbs=[EarlyStoppingCallback(patience=3), CSVLogger('log.csv'),
                                                             SaveModelCallback(name='best')])
    full = mk(); full.fit(8, cbs=[Scripted(vals)])
    want_log, want_best = (tmp_path/'log.csv').read_text(), torch.load(tmp_path/'models'/'best.pth', weights_only=True)
    part = mk()
    with pytest.raises(KeyboardInterrupt):
        part.fit(8, cbs=[Scripted(vals), Checkpoint(every=3), Crash(epoch=3)])   # saved after epoch 2, crash after epoch 3
    assert len((tmp_path/'log.csv').read_text().split()) == 5        # header + 4 rows; the checkpoint has 3
    fresh = mk(seed=7); fresh.load_checkpoint('checkpoint'); fresh.fit_resume(cbs=[Scripted(vals)])
    es = fresh.early_stopping
    assert (es.best, es.best_epoch, es.stopped_epoch) == (full.early_stopping.best, 1, 4)
    def cols(t): return [l.split(',')[:3] for l in t.split()]   # epoch, train_loss, valid_loss: not the time
    assert cols((tmp_path/'log.csv').read_text()) == cols(want_log)
    assert same(torch.load(tmp_path/'models'/'best.pth', weights_only=True), want_best)
    assert same_weights(weights(full), weights(fresh))        # the best model (epoch 1) reloaded in both


def test_a_trainer_with_a_loss_scaler_resumes_with_its_scale(tmp_path):
    "fp16-style training (a GradScaler, skipped steps): the scale is part of the trainer's state."
    mk = lambda seed=0: make(path=tmp_path, seed=seed, cbs=[ScaledTrainCB(), InfGrad(3, 9, 20)])
    full = mk(); full.fit(4, cbs=[OneCycleLR(max_lr=0.2)])
    fresh = interrupted(mk, 4, lambda: [OneCycleLR(max_lr=0.2)], Crash(batches=14), every_n_batches=3)
    assert fresh.trainer.gs.get_scale() == full.trainer.gs.get_scale() == 2.**10 / 8
    assert_same_run(full, fresh)


def test_checkpoint_write_is_atomic_and_cleans_stale_temp_files(tmp_path, monkeypatch):
    learn = make(path=tmp_path); learn.fit(1)
    f = learn.save_checkpoint('ck')
    w1 = weights(learn)
    learn.fit(1)
    stale = f.with_name(f'.{f.name}.tmp.{socket.gethostname()}.999999999')   # left by a killed save (no such process)
    stale.write_bytes(b'half')
    real_save = torch.save
    def half_save(obj, path, *a, **k):
        path.write(b'PK\x03\x04 half a checkpoint')
        raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', half_save)
    with pytest.raises(OSError, match='disk full'): learn.save_checkpoint('ck')
    monkeypatch.setattr(torch, 'save', real_save)
    assert sorted(p.name for p in f.parent.iterdir()) == ['ck.pth']   # no temporary file left, the stale one removed
    fresh = make(path=tmp_path, seed=3); fresh.load_checkpoint('ck')
    assert same_weights(w1, weights(fresh))                            # the previous checkpoint, intact


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
    raw = bytearray(good.read_bytes())
    i = raw.find(learn.model[0].weight.detach().cpu().numpy().tobytes()[:16]); assert i > 0
    raw[i + 3] ^= 0x40
    (tmp_path/'models'/'flipped.pth').write_bytes(bytes(raw))
    ck = torch.load(good, weights_only=True); del ck['checksum']; ck['rng']['torch'] = torch.zeros(3, dtype=torch.uint8)
    torch.save(ck, tmp_path/'models'/'badrng.pth')
    before = snapshot(learn)
    for name, msg in (('adam', 'Adam optimizer'), ('wide', 'does not fit this model'), ('junk', 'not a readable'),
                      ('plain', 'not a checkpoint from save_checkpoint'), ('missing', 'no checkpoint'),
                      ('unshuffled', 'generator'), ('flipped', 'corrupted'), ('badrng', 'unchanged')):
        with pytest.raises((ValueError, FileNotFoundError), match=msg): learn.load_checkpoint(name)
        assert same(before, snapshot(learn)) and getattr(learn, 'resume_point', None) is None, name
    fresh = make(path=tmp_path)                                           # no optimizer yet: still none after a failure
    with pytest.raises(ValueError): fresh.load_checkpoint('badrng')
    assert fresh.opt is None


def test_checkpoints_hold_cpu_tensors_and_learner_state_with_no_optimizer_round_trips(tmp_path):
    learn = make(path=tmp_path)
    f = learn.save_checkpoint('new')                                      # a learner that never trained
    ck = torch.load(f, weights_only=True)
    assert ck['learner']['opt'] is None and ck['pos'] == {'epoch': 0, 'n_epoch': 0, 'batches': 0}
    assert all(v.device.type == 'cpu' for v in ck['learner']['model'].values())
    learn.fit(1); learn.load_checkpoint('new'); assert learn.opt is None  # back to "no optimizer yet"


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_a_checkpoint_saved_on_a_gpu_holds_cpu_tensors_and_resumes_there(tmp_path):
    mk = partial(make, path=tmp_path, cbs=[DeviceCB('cuda')])
    full = mk(); full.fit(3, cbs=[OneCycleLR(max_lr=0.2)])
    fresh = interrupted(mk, 3, lambda: [OneCycleLR(max_lr=0.2)], Crash(batches=10), every_n_batches=4)
    ck = torch.load(tmp_path/'models'/'checkpoint.pth', weights_only=True)
    assert all(v.device.type == 'cpu' for v in ck['learner']['model'].values())
    assert all(v.device.type == 'cuda' for st in fresh.opt.state.values() for v in st.values() if v.ndim > 0)
    assert same_weights(weights(full), weights(fresh))


def test_resumed_optimizer_state_follows_the_parameters_device(tmp_path):
    "Stand-in for a GPU: the `meta` device. The state loads on the CPU; DeviceCB moves it with the model at before_fit."
    learn = make(path=tmp_path); learn.fit(1)
    with pytest.raises(KeyboardInterrupt): learn.fit(2, cbs=[Checkpoint(), Crash(epoch=0)])
    class Where(Callback):
        def __init__(self, order, stop=False): self.order, self.stop = order, stop
        def before_fit(self):
            self.devices = {v.device.type for st in self.learn.opt.state.values() for v in st.values() if v.ndim > 0}
            if self.stop: raise CancelFitException()
    gpu = make(path=tmp_path, cbs=[DeviceCB('meta')])
    gpu.load_checkpoint('checkpoint')
    assert {v.device.type for st in gpu.opt.state.values() for v in st.values()} == {'cpu'}
    after_device, at_start = Where(-150), Where(20_000, stop=True)
    torch.__future__.set_swap_module_params_on_conversion(True)   # model.to() keeps the parameters the optimizer holds
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')                    # "copying ... to a meta parameter is a no-op"
            gpu.fit_resume(cbs=[after_device, at_start])
    finally: torch.__future__.set_swap_module_params_on_conversion(False)
    assert after_device.devices == {'meta'} and at_start.devices == {'meta'}
