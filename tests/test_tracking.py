"""Contracts of lesson 12 (`learner_course.tracking`): early stopping (also at a NaN), best-model saving (from the main
process only under DDP), reduce-on-plateau, CSV logs, errors before training, and the state each tracker keeps.

All data here is tiny random tensors (unit tests), so the suite runs in seconds on a CPU.
"""
import math
import numpy as np
import pytest
import torch
from learner_course.events import Callback
from learner_course.metrics import Accuracy
from learner_course.tracking import (monitor_names, MonitorCallback, EarlyStoppingCallback, SaveModelCallback,
                                     ReduceLROnPlateau, CSVLogger)
from sched_helpers import make, weights, same_weights, Scripted, CountBatches


class ScriptAcc(Callback):
    order = 0
    def __init__(self, values): self.values = values
    def after_epoch(self): self.learn.epoch_metrics['accuracy'] = self.values[self.learn.epoch]


def test_early_stopping_stops_at_the_right_epoch(tmp_path, capsys):
    learn, log, count = make(path=tmp_path), CSVLogger('log.csv'), CountBatches()
    es = EarlyStoppingCallback(patience=3)
    learn.fit(10, cbs=[Scripted([1.0, 0.8, 0.6, 0.5, 0.5, 0.51, 0.52, 0.53, 0.1, 0.1]), es, log, count])
    assert es.stopped_epoch == 6 and len(learn.recorder.values) == 7 and (es.best, es.best_epoch) == (0.5, 3)
    assert count.n == 7 * 8 and len(log.read()) == 7      # no batch of epoch 7; the last epoch is logged
    assert 'has not improved on 0.5000 (epoch 3) for 3 epochs' in capsys.readouterr().out
    es = EarlyStoppingCallback(patience=2)                # it resets at each fit
    learn.fit(5, cbs=[Scripted([3, 2, 1, 0.5, 0.4]), es])
    assert es.stopped_epoch is None and len(learn.recorder.values) == 12
    es = EarlyStoppingCallback('accuracy', patience=1)    # mode 'auto': higher accuracy is better
    learn = make(metrics=[Accuracy()])
    learn.fit(3, cbs=[ScriptAcc([0.5, 0.7, 0.6]), es])
    assert es.stopped_epoch == 2 and es.best == 0.7


@pytest.mark.parametrize('bad,says', [(float('nan'), 'valid_loss is NaN'), (float('inf'), 'valid_loss is inf')])
def test_early_stopping_stops_at_once_on_a_non_finite_value_and_says_so(bad, says, capsys):
    learn, es, count = make(), EarlyStoppingCallback(patience=5), CountBatches()
    learn.fit(10, cbs=[Scripted([1.0, 0.8, bad] + [0.1] * 7), es, count])
    assert es.stopped_epoch == 2 and (es.best, es.best_epoch) == (0.8, 1) and count.n == 3 * 8
    out = capsys.readouterr().out
    assert says in out and 'diverged' in out and 'best 0.8000 (epoch 1)' in out
    es = EarlyStoppingCallback(patience=5)                # NaN at the first epoch: no best yet
    learn.fit(3, cbs=[Scripted([bad, 1., 1.]), es])
    assert es.stopped_epoch == 0 and 'best no value yet' in capsys.readouterr().out


def test_save_model_keeps_and_reloads_the_best(tmp_path, capsys):
    class Snap(Callback):
        order = 85
        def before_fit(self): self.w = []
        def after_epoch(self): self.w.append(weights(self.learn))
    learn, snap = make(path=tmp_path), Snap()
    sm = SaveModelCallback(monitor='valid_loss', name='best_model')
    learn.fit(10, cbs=[Scripted([0.9, 0.5, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1]), sm, EarlyStoppingCallback(patience=3), snap])
    assert (sm.best_epoch, len(snap.w)) == (1, 5)
    assert same_weights(weights(learn), snap.w[1]) and not same_weights(snap.w[1], snap.w[-1])
    assert (tmp_path/'models'/'best_model.pth').exists() and 'Loaded the best model' in capsys.readouterr().out
    assert not list((tmp_path/'models').glob('.*tmp*'))   # atomic writes leave no temporary files
    sm2 = SaveModelCallback(name='last')                  # the best is the last epoch: nothing to reload
    learn.fit(2, cbs=[Scripted([0.9, 0.5]), sm2]); assert 'Loaded' not in capsys.readouterr().out
    class Fail(Callback):
        def after_epoch(self):
            if self.learn.epoch == 2: raise RuntimeError('boom')
    with pytest.raises(RuntimeError): learn.fit(4, cbs=[Scripted([0.5, 0.9, 0.9, 0.9]), SaveModelCallback(name='f'), Fail()])
    assert 'Loaded' not in capsys.readouterr().out        # after an error the model is left as it is


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


class DistributedCB(Callback):
    "Stand-in for lesson 17's DistributedCB as one of two processes: `is_main`, and a `save` that writes from rank 0 only."
    def __init__(self, rank): self.rank, self.saves = rank, []
    @property
    def is_main(self): return self.rank == 0
    def save(self, name, with_opt=True):
        self.saves.append(name)
        if self.is_main: self.learn.save(name, with_opt=with_opt)


def test_save_model_and_csv_log_write_from_the_main_process_only(tmp_path):
    "Under DDP every process decides the same way, but only the main one writes; the best model reloads everywhere."
    (tmp_path/'r1').mkdir()
    d0, d1 = DistributedCB(0), DistributedCB(1)
    main = make(path=tmp_path, cbs=[d0]); other = make(path=tmp_path/'r1', cbs=[d1])
    for learn in (main, other):
        learn.fit(3, cbs=[Scripted([0.9, 0.5, 0.7]), SaveModelCallback(name='best', every_epoch=True, reload_best=False),
                          CSVLogger('log.csv')])
    assert d0.saves == d1.saves == ['best', 'best_0', 'best', 'best_1', 'best_2']   # every process calls save...
    assert (tmp_path/'models'/'best.pth').exists() and (tmp_path/'log.csv').exists()
    assert not (tmp_path/'r1'/'models').exists() and not (tmp_path/'r1'/'log.csv').exists()   # ...one process writes
    other2 = make(path=tmp_path, cbs=[DistributedCB(1)])  # the other process, beside the main one's files: reloads the best
    other2.fit(3, cbs=[Scripted([0.9, 0.5, 0.7]), SaveModelCallback(name='best')])
    sd = torch.load(tmp_path/'models'/'best.pth', weights_only=True)['model']
    assert all(torch.equal(v, other2.model.state_dict()[k]) for k, v in sd.items())


def test_monitor_errors_come_before_any_training(tmp_path):
    learn = make(path=tmp_path, metrics=[Accuracy()])
    assert monitor_names(learn) == ['train_loss', 'valid_loss', 'accuracy']
    for cb, msg in ((EarlyStoppingCallback('val_loss'), "Did you mean 'valid_loss'"),
                    (SaveModelCallback('valid_los'), 'Did you mean'),
                    (SaveModelCallback('f1', name='best'), "available: \\['train_loss', 'valid_loss', 'accuracy'\\]"),
                    (ReduceLROnPlateau('top5'), 'available')):
        count = CountBatches()
        with pytest.raises(ValueError, match=msg): learn.fit(3, cbs=[count, cb])
        assert count.n == 0
    with pytest.raises(ValueError, match='valid=False'): learn.fit(1, valid=False, cbs=[EarlyStoppingCallback()])
    m = MonitorCallback(min_delta=0.1); m._reset()
    assert [m.is_better(v, 1.0) for v in (0.95, 0.85, float('nan'), None)] == [False, True, False, False]


@pytest.mark.parametrize('make_cb,msg', [
    (lambda: EarlyStoppingCallback(patience=0), 'patience'), (lambda: EarlyStoppingCallback(patience=1.5), 'patience'),
    (lambda: EarlyStoppingCallback(mode='minimum'), 'mode'), (lambda: SaveModelCallback(mode='best'), 'mode'),
    (lambda: EarlyStoppingCallback(min_delta=-0.1), 'min_delta'), (lambda: ReduceLROnPlateau(factor=1.5), 'factor'),
    (lambda: ReduceLROnPlateau(mode='up'), 'mode'), (lambda: ReduceLROnPlateau(patience=-1), 'patience'),
    (lambda: MonitorCallback(monitor=3), 'column name')])
def test_bad_arguments_fail_at_construction(make_cb, msg):
    with pytest.raises((ValueError, TypeError), match=msg): make_cb()


def test_reduce_on_plateau(tmp_path):
    learn = make(metrics=[Accuracy()])
    learn.fit(5, cbs=[ScriptAcc([0.5, 0.6, 0.6, 0.6, 0.6]), ReduceLROnPlateau('accuracy', patience=1, factor=0.5)])
    np.testing.assert_allclose(learn.recorder.lrs[::6], [0.1, 0.1, 0.1, 0.1, 0.05])   # 'auto' -> max for accuracy
    assert learn.opt.param_groups[0]['lr'] == 0.1         # each fit starts from the learner's lr


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
    assert log.file is None and log.state_dict() == {}
    learn.fit(1, cbs=[CSVLogger('hist/log.csv', append=True)]); assert len(log.read()) == 4
    other = make(path=tmp_path)                           # a log without an accuracy column ...
    other.fit(1, cbs=[CSVLogger('other.csv')])
    with pytest.raises(ValueError, match='columns'):      # ... cannot take rows with one
        learn.fit(1, cbs=[CSVLogger('other.csv', append=True)])
    other.fit(1, cbs=[CSVLogger('hist/log.csv', append=True)])   # fewer columns are fine: left empty
    assert log.read()[-1]['accuracy'] == ''


def test_tracker_states_round_trip(tmp_path):
    "What each tracker keeps in its state_dict, and that load_state_dict gives it back."
    learn = make(path=tmp_path)
    es, sm, log = EarlyStoppingCallback(patience=2), SaveModelCallback(name='b'), CSVLogger('l.csv', append=True)
    got = {}
    class Grab(Callback):
        order = 90
        def after_epoch(self):
            if self.learn.epoch == 2: got.update(es=es.state_dict(), sm=sm.state_dict(), log=log.state_dict())
    learn.fit(4, cbs=[Scripted([0.5, 0.9, 0.9, 0.4]), es, sm, log, Grab()])
    assert got['es'] == {'best': 0.5, 'best_epoch': 0, 'wait': 2, 'stopped_epoch': 2}
    assert got['sm']['best'] == 0.5 and got['sm']['saved'] == str(tmp_path/'models'/'b.pth') and got['sm']['saved_at'] == 6
    assert got['log']['start'] == 0 and got['log']['own_header'] and len(got['log']['rows']) == 3
    es2 = EarlyStoppingCallback(patience=2); es2.load_state_dict(got['es'])
    assert (es2.best, es2.wait, es2.stopped_epoch) == (0.5, 2, 2)
    assert EarlyStoppingCallback().state_dict() == {}     # before any fit: nothing to keep
