"""Lesson 09 (`learner_course.debug`): the diagnosis tools and the broken-setup exercises.

Synthetic loss histories below are made-up numbers that show one pattern each; the broken setups train on the
2,000-image Fashion-MNIST subset (about a second each on one thread).
"""
import math
import pytest
import torch
from torch import nn
from learner_course.exercises import ExerciseError
from learner_course import debug as D
from learner_course.learner import set_seed

# -- diagnose_training on synthetic histories ---------------------------------------------------------------
CASES = {
    'healthy': dict(train_loss=[2.0, 1.2, 0.8, 0.6, 0.5], valid_loss=[1.9, 1.3, 1.0, 0.9, 0.85]),
    'overfitting': dict(train_loss=[2.3, 1.1, 0.6, 0.3, 0.1], valid_loss=[2.2, 1.2, 1.0, 1.2, 1.5]),
    'plateau': dict(train_loss=[2.3, 1.0, 0.9, 0.85, 0.84, 0.83], valid_loss=[1.2, 1.0, 1.0, 1.01, 1.0, 1.0]),
    'not_learning': dict(losses=[2.3, 2.31, 2.29, 2.30] * 10),
    'underfitting': dict(losses=[2.3 - 0.8 * i / 39 for i in range(40)]),
    'diverged': dict(losses=[2.3 + 6.7 * i / 39 for i in range(40)]),
}

@pytest.mark.parametrize('name', list(CASES))
def test_diagnose_names_each_pattern(name, capsys):
    d = D.diagnose_training(CASES[name])
    assert d.names == [name]
    assert all(isinstance(f, D.Finding) and f.message for f in d)
    assert name in capsys.readouterr().out       # printed too

def test_diagnose_nan_anywhere_is_diverged():
    for h in (dict(losses=[2.3, float('nan')]), dict(train_loss=[2.0, float('inf')]), dict(train_loss=[2., 1.], valid_loss=[1., float('nan')])):
        assert D.diagnose_training(h, verbose=False).names == ['diverged']

def test_diagnose_thresholds_are_arguments():
    h = CASES['underfitting']
    assert D.diagnose_training(h, underfit_ratio=0.9, verbose=False).names == ['healthy']
    assert D.diagnose_training(h, min_improvement=0.5, verbose=False).names == ['not_learning']
    assert D.diagnose_training(CASES['plateau'], plateau_epochs=5, verbose=False).names == ['healthy']
    assert D.diagnose_training(CASES['overfitting'], overfit_tol=10., verbose=False).names == ['healthy']

def test_diagnose_first_loss_against_ln_classes():
    h = dict(losses=[25. - 22 * i / 39 for i in range(40)])
    assert D.diagnose_training(h, verbose=False).names == ['healthy']              # no class count: not checked
    d = D.diagnose_training(h, n_classes=10, verbose=False)
    assert d.names == ['suspicious_start'] and '2.30' in d[0].message
    assert D.diagnose_training(dict(losses=[2.31, 1.0] * 20), n_classes=10, verbose=False).names != ['suspicious_start']

def test_diagnose_errors():
    with pytest.raises(ValueError, match='train first'): D.diagnose_training(dict(train_loss=[]))
    with pytest.raises(KeyError, match='unknown history keys'): D.diagnose_training(dict(val_loss=[1.0]))
    with pytest.raises(TypeError, match='Learner, a Recorder or a dict'): D.diagnose_training([1.0, 2.0])
    assert D.diagnose_training(dict(train_loss=[1.0]), verbose=False).names == ['too_short']

# -- diagnose_training on real (broken) runs -------------------------------------------------------------------
def test_diagnose_broken_lr_diverges_and_fix_is_healthy():
    learn = D.train_setup(D.broken_1())
    assert D.diagnose_training(learn, n_classes=10, verbose=False).names == ['diverged']
    assert D.diagnose_training(learn.recorder, verbose=False).names == ['diverged']    # a Recorder works too
    assert D.diagnose_training(D.train_setup(D.fix_1(D.broken_1())), n_classes=10, verbose=False).names == ['healthy']

def test_diagnose_dead_relus_not_learning():
    learn = D.train_setup(D.broken_6())
    assert D.diagnose_training(learn, n_classes=10, verbose=False).names == ['not_learning']
    assert D.valid_accuracy(learn) < 0.2

# -- the exercises: each check fails on the unfixed setup -----------------------------------------------------
@pytest.mark.parametrize('n', range(1, 9))
def test_check_fails_on_unfixed_setup(n):
    check = getattr(D, f'check_fix_{n}')
    with pytest.raises(ExerciseError): check(lambda setup: setup)

def test_check_explains_a_non_setup():
    with pytest.raises(ExerciseError, match='setup dict'): D.check_fix_1(lambda setup: 0.1)
    with pytest.raises(ExerciseError, match='setup dict'): D.check_fix_1(lambda setup: {'lr': 0.1})

def test_check_fix_7_refuses_a_shallower_model():
    def shallow(setup): return {**setup, 'model': D.mlp(784, 64, 10)}
    with pytest.raises(ExerciseError, match='nine'): D.check_fix_7(shallow)

# -- the other tools -------------------------------------------------------------------------------------------
def _batch():
    set_seed(0)
    return next(iter(D.tensor_dls(*D.debug_data()).train))

def test_overfit_one_batch_leaves_model_alone():
    xb, yb = _batch()
    model = D.mlp(784, 32, 10).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    r = D.overfit_one_batch(model, (xb, yb), nn.CrossEntropyLoss(), verbose=False)
    assert r.passed and r.final_loss < 0.05 and r.accuracy == 1.0 and len(r.losses) == 100
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and not model.training
    bad = D.overfit_one_batch(D.mlp(784, 32, 10), (xb, yb), nn.CrossEntropyLoss(), lr=1e-8, steps=20, verbose=False)
    assert not bad.passed

def test_check_gradients_restores_existing_grads_and_flags():
    xb, yb = _batch()
    model = D.mlp(784, 16, 10)
    nn.CrossEntropyLoss()(model(xb), yb).backward()
    g = [p.grad.clone() for p in model.parameters()]
    rep = D.check_gradients(model, (xb[:4], yb[:4]), nn.CrossEntropyLoss(), verbose=False)
    assert all(torch.equal(a, p.grad) for a, p in zip(g, model.parameters()))     # previous .grad put back
    assert rep.ok and [r['name'] for r in rep] == ['1.weight', '1.bias', '3.weight', '3.bias']
    with torch.no_grad(): model[1].weight.fill_(float('nan'))
    assert D.check_gradients(model, (xb, yb), nn.CrossEntropyLoss(), verbose=False)[0]['status'] == 'nan/inf'
    with pytest.raises(ValueError, match='needs loss_func'): D.check_gradients(model, (xb, yb))

def test_count_parameters():
    m = D.mlp(10, 5, 2)
    assert D.count_parameters(m, verbose=False) == dict(total=67, trainable=67, frozen=0, mb_fp32=67 * 4 / 2**20)

def test_checklist_tick_untick_and_bad_numbers():
    cl = D.Checklist(['a', 'b', 'c'])
    assert repr(cl).count('☐') == 3
    cl.tick(1, 3)
    assert cl.done == 2 and cl.todo == ['b'] and repr(cl).count('☑') == 2
    with pytest.raises(IndexError, match='numbered 1 to 3'): cl.tick(2, 4)
    assert cl.done == 2                               # a bad number changes nothing
    assert cl.untick(3).todo == ['b', 'c']
    with pytest.raises(ValueError): D.Checklist([])
    assert len(D.Checklist()) == sum(len(v) for v in D.DEBUG_CHECKLIST.values()) >= 40

def test_debug_data_is_cached_and_copied():
    a = D.debug_data()
    a[0].fill_(7.)
    b = D.debug_data()
    assert b[0].abs().max() < 7 and abs(b[0].mean().item()) < 1e-3
    raw = D.debug_data(normalize=False)[0]
    assert 0 <= raw.min() and raw.max() <= 1
