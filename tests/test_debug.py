"""Lesson 15 (`learner_course.debug`): the diagnosis tools, and the playground and broken setups of its exercises.

Synthetic loss histories below are made-up numbers that show one pattern each; the broken setups train on the
2,000-image Fashion-MNIST subset of `learner_course.exercises.l15` (about a second each on one thread). The checks
of the exercises are tested by tests/test_exercises.py and tests/test_wrong_answers.py; here only that each one
names the bug of its unfixed setup.
"""
import math
import pytest
import torch
from torch import nn
from learner_course.exercises import ExerciseError
from learner_course import debug as D
from learner_course.exercises import l15 as E
from learner_course.learner import Learner, TrainCB
from learner_course.events import Callback
from learner_course.rng import set_seed

def test_library_has_no_exercise_code():
    import learner_course, inspect
    src = inspect.getsource(D)
    assert 'exercises' not in src and 'broken_' not in src and 'check_fix' not in src
    assert not any(n.startswith(('broken_', 'fix_', 'check_fix')) for n in D.__all__)
    assert 'debug_data' not in D.__all__ and 'mlp' not in D.__all__
    for n in ('diagnose_training', 'overfit_one_batch', 'check_gradients', 'Checklist'): assert getattr(learner_course, n) is getattr(D, n)

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
    learn = E.train_setup(E.broken_1())
    assert D.diagnose_training(learn, n_classes=10, verbose=False).names == ['diverged']
    assert D.diagnose_training(learn.recorder, verbose=False).names == ['diverged']    # a Recorder works too
    assert D.diagnose_training(E.train_setup(E.fix_1(E.broken_1())), n_classes=10, verbose=False).names == ['healthy']

def test_diagnose_dead_relus_not_learning():
    learn = E.train_setup(E.broken_6())
    assert D.diagnose_training(learn, n_classes=10, verbose=False).names == ['not_learning']
    assert E.valid_accuracy(learn) < 0.2

# -- each check names the bug of its unfixed setup -------------------------------------------------------------
UNFIXED = {1: 'too high', 2: 'not zeroed', 3: 'one score per class', 4: 'not theirs', 5: 'range from 0 to 255',
           6: 'below zero for every image', 7: 'explode', 8: 'training mode'}

@pytest.mark.parametrize('n', range(1, 9))
def test_check_names_the_bug_of_the_unfixed_setup(n):
    with pytest.raises(ExerciseError, match=UNFIXED[n]): getattr(E, f'check_fix_{n}')(lambda setup: setup)

def test_check_explains_a_non_setup():
    with pytest.raises(ExerciseError, match='setup dict'): E.check_fix_1(lambda setup: 0.1)
    with pytest.raises(ExerciseError, match='setup dict'): E.check_fix_1(lambda setup: {'lr': 0.1})
    with pytest.raises(ExerciseError, match='returned None'): E.check_fix_1(lambda setup: None)
    with pytest.raises(ExerciseError, match='lr must be a positive number'): E.check_fix_1(lambda setup: {**setup, 'lr': '0.1'})

# -- the other tools -------------------------------------------------------------------------------------------
def _batch():
    set_seed(0)
    return next(iter(E.tensor_dls(*E.debug_data()).train))

def test_overfit_one_batch_leaves_model_alone():
    xb, yb = _batch()
    model = E.mlp(784, 32, 10).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    r = D.overfit_one_batch(model, (xb, yb), nn.CrossEntropyLoss(), verbose=False)
    assert r.passed and r.final_loss < 0.05 and r.accuracy == 1.0 and len(r.losses) == 100
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and not model.training
    bad = D.overfit_one_batch(E.mlp(784, 32, 10), (xb, yb), nn.CrossEntropyLoss(), lr=1e-8, steps=20, verbose=False)
    assert not bad.passed

def test_check_gradients_restores_existing_grads_and_flags():
    xb, yb = _batch()
    model = E.mlp(784, 16, 10)
    nn.CrossEntropyLoss()(model(xb), yb).backward()
    g = [p.grad.clone() for p in model.parameters()]
    rep = D.check_gradients(model, (xb[:4], yb[:4]), nn.CrossEntropyLoss(), verbose=False)
    assert all(torch.equal(a, p.grad) for a, p in zip(g, model.parameters()))     # previous .grad put back
    assert rep.ok and [r['name'] for r in rep] == ['1.weight', '1.bias', '3.weight', '3.bias']
    with torch.no_grad(): model[1].weight.fill_(float('nan'))
    assert D.check_gradients(model, (xb, yb), nn.CrossEntropyLoss(), verbose=False)[0]['status'] == 'nan/inf'
    with pytest.raises(ValueError, match='needs loss_func'): D.check_gradients(model, (xb, yb))
    with pytest.raises(TypeError, match='needs a model'): D.check_gradients([model])

def test_check_gradients_divides_by_the_loss_scale():
    xb, yb = _batch()
    set_seed(0); model = E.mlp(784, 16, 10)
    nn.CrossEntropyLoss()(model(xb), yb).backward()
    plain = D.check_gradients(model, verbose=False)
    for p in model.parameters(): p.grad *= 2. ** 14          # what a loss scaled by 16384 leaves in .grad
    assert D.check_gradients(model, verbose=False)[0]['status'] == 'exploding'
    scaled = D.check_gradients(model, grad_scale=2. ** 14, verbose=False)
    assert [r['mean'] for r in scaled] == pytest.approx([r['mean'] for r in plain], rel=1e-6)
    assert [r['status'] for r in scaled] == [r['status'] for r in plain]

# -- a stand-in trainer with a loss scaler, following the course's protocol (learn.scaler, learn.step_skipped) ---
class ScaledTrainCB(TrainCB):
    "The default training step under a GradScaler (the CPU's, here); a non-finite loss at `bad_iter` makes the scaler skip that step."
    def __init__(self, bad_iter=None, init_scale=2.**12): self.bad_iter, self.init_scale = bad_iter, init_scale
    def before_fit(self):   # on the model's device (DeviceCB moved it already): CPU here, CUDA on a GPU machine
        dev = next(self.learn.model.parameters()).device.type
        self.learn.scaler = torch.amp.GradScaler(dev, init_scale=self.init_scale)
    def backward(self):
        loss = self.learn.loss * (float('inf') if self.learn.train_iter == self.bad_iter else 1.)
        self.learn.scaler.scale(loss).backward()
    def step(self):
        before = self.learn.scaler.get_scale()
        self.learn.scaler.step(self.learn.opt); self.learn.scaler.update()
        self.learn.step_skipped = self.learn.scaler.get_scale() < before

class _SeeGrads(Callback):
    "Run check_gradients on the learner between backward and step."
    order = 70
    def after_backward(self):
        if self.learn.train_iter == 0: self.rep = D.check_gradients(self.learn, verbose=False)

def _tiny(cbs, seed=0):
    set_seed(seed)
    x, y = torch.randn(64, 6), torch.arange(64) % 3
    dl = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    learn = Learner(model=nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), dls=(dl, dl[:1]),
                    loss_func=nn.CrossEntropyLoss(), lr=0.1, cbs=cbs)
    learn.logger = None
    return learn

def test_grad_norm_cb_records_each_step():
    gn = D.GradNormCB()
    learn = _tiny([gn]); learn.fit(2)
    assert len(gn.norms) == 8 and gn.skipped == 0 and all(n > 0 and math.isfinite(n) for n in gn.norms)
    assert learn.grad_norm is gn

def test_grad_norm_cb_unscales_and_leaves_out_skipped_steps():
    plain = D.GradNormCB(); _tiny([plain]).fit(1)
    scaled = D.GradNormCB(); _tiny([ScaledTrainCB(), scaled]).fit(1)
    assert scaled.norms == pytest.approx(plain.norms, rel=1e-5)           # the loss scale is divided out
    skip = D.GradNormCB(); learn = _tiny([ScaledTrainCB(bad_iter=2), skip]); learn.fit(1)
    assert skip.skipped == 1 and len(skip.norms) == 3 and all(map(math.isfinite, skip.norms))

def test_grad_norm_cb_under_accumulation_one_norm_per_real_step():
    from learner_course.accel import GradientAccumulation
    gn = D.GradNormCB(); _tiny([GradientAccumulation(2), gn]).fit(1)
    assert len(gn.norms) == 2

def test_check_gradients_reads_a_learners_scale():
    see = _SeeGrads(); _tiny([ScaledTrainCB(init_scale=2.**20), see]).fit(1)
    see_plain = _SeeGrads(); _tiny([see_plain]).fit(1)
    assert [r['max'] for r in see.rep] == pytest.approx([r['max'] for r in see_plain.rep], rel=1e-5)
    assert see.rep.ok

def test_count_parameters():
    m = E.mlp(10, 5, 2)
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
    a = E.debug_data()
    a[0].fill_(7.)
    b = E.debug_data()
    assert b[0].abs().max() < 7 and abs(b[0].mean().item()) < 1e-3
    raw = E.debug_data(normalize=False)[0]
    assert 0 <= raw.min() and raw.max() <= 1
