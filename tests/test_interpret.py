"""Lesson 16 (`learner_course.interpret`): ClassificationInterpretation against hand-computed numbers, and its errors.

Predictions here are small hand-made tensors (and random ones where only consistency matters, as marked);
one test trains nothing but runs a tiny model through a Learner to check the `learn` entry points.
"""
import pytest
import torch
from torch import nn
import torch.nn.functional as F
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from learner_course.interpret import ClassificationInterpretation, confusion_matrix_from, precision_recall_f1
from learner_course.exercises.l16 import confusion_by_hand, precision_recall   # the exercises' reference answers
from learner_course.learner import Learner
from learner_course.events import Callback
from learner_course.rng import set_seed
from learner_course.data import CLASSES

# 8 items, 3 classes, worked out on paper:
#   actual    0 0 0 1 1 2 2 2
#   predicted 0 1 2 1 1 2 0 2
# cm = [[1,1,1],[0,2,0],[1,0,2]]; precision = cols: 1/2, 2/3, 2/3; recall = rows: 1/3, 2/2, 2/3
T = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
P = torch.tensor([0, 1, 2, 1, 1, 2, 0, 2])
CM = torch.tensor([[1, 1, 1], [0, 2, 0], [1, 0, 2]])

def _interp(**kw):
    return ClassificationInterpretation.from_preds(F.one_hot(P, 3).float() * 3, T, **kw)

def test_confusion_matrix_by_hand():
    assert torch.equal(_interp().confusion_matrix(), CM)
    assert torch.equal(confusion_matrix_from(T, P, 3), CM)
    assert torch.equal(confusion_by_hand(T, P, 3), CM)
    assert confusion_matrix_from(T, P, 3).dtype == torch.int64

def test_report_numbers_by_hand(capsys):
    rows = _interp(vocab=['a', 'b', 'c']).classification_report()
    out = capsys.readouterr().out
    assert 'precision' in out and 'macro avg' in out and 'accuracy' in out
    assert [r['cls'] for r in rows] == ['a', 'b', 'c'] and [r['support'] for r in rows] == [3, 2, 3]
    want_p, want_r = [1/2, 2/3, 2/3], [1/3, 1., 2/3]
    want_f = [2 * p * r / (p + r) for p, r in zip(want_p, want_r)]
    for key, want in (('precision', want_p), ('recall', want_r), ('f1', want_f)):
        assert [r[key] for r in rows] == pytest.approx(want, abs=1e-6), key
    p, r = precision_recall(CM)
    assert p.tolist() == pytest.approx(want_p) and r.tolist() == pytest.approx(want_r)

def test_undefined_ratios_are_zero():
    p, r, f = precision_recall_f1(torch.tensor([[2, 0], [0, 0]]))   # class 1 never present nor predicted
    assert p.tolist() == [1., 0.] and r.tolist() == [1., 0.] and f.tolist() == [1., 0.]

def test_most_confused_sorted_and_filtered():
    t = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2])
    p = torch.tensor([1, 1, 2, 0, 2, 2, 2, 2])
    it = ClassificationInterpretation.from_preds(F.one_hot(p, 3).float(), t, vocab=['x', 'y', 'z'])
    assert it.most_confused() == [('y', 'z', 3), ('x', 'y', 2), ('x', 'z', 1), ('y', 'x', 1)]
    assert it.most_confused(min_val=2) == [('y', 'z', 3), ('x', 'y', 2)]
    assert it.most_confused(min_val=4) == []

def test_losses_probs_and_top_losses():
    logits = torch.tensor([[2., 0., 0.], [0., 3., 0.], [0., 0., 1.]])
    t = torch.tensor([0, 0, 2])
    it = ClassificationInterpretation.from_preds(logits, t)
    assert torch.allclose(it.losses, F.cross_entropy(logits, t, reduction='none'))
    assert torch.allclose(it.probs, logits.softmax(1))
    l, i = it.top_losses(1)
    assert i.tolist() == [1]                                       # confidently wrong comes first
    probs = logits.softmax(1)                                      # probabilities are used as they are
    assert torch.allclose(ClassificationInterpretation.from_preds(probs, t).losses, it.losses, atol=1e-6)

def test_from_preds_detaches_and_keeps_everything_on_the_cpu():
    logits = (F.one_hot(P, 3).float() * 3).requires_grad_()
    it = ClassificationInterpretation.from_preds(logits, T, inputs=torch.rand(8, 16))
    assert not it.preds.requires_grad and not it.losses.requires_grad
    assert {t.device.type for t in (it.preds, it.targs, it.probs, it.decoded, it.losses, it.inputs)} == {'cpu'}
    assert torch.equal(it.confusion_matrix(), CM)

def test_interpret_has_no_exercise_code():
    import inspect, learner_course.interpret as I
    src = inspect.getsource(I)
    assert 'exercises' not in src and 'confusion_by_hand' not in src and 'check_' not in src

def test_vocab_defaults():
    ten = ClassificationInterpretation.from_preds(torch.randn(5, 10), torch.arange(5))   # random logits: only names matter
    assert ten.vocab == CLASSES
    assert _interp().vocab == ['0', '1', '2']

@pytest.mark.parametrize('preds,targs,msg', [
    (torch.randn(4, 1), torch.randn(4), 'regression'),            # (N, 1) outputs: a regressor
    (torch.randn(4), torch.tensor([0, 1, 0, 1]), 'regression'),   # 1-D outputs
    (torch.randn(4, 3), torch.tensor([0., 1., 2., 0.]), 'y.long()'),
    (torch.randn(4, 3), torch.tensor([0, 1, 3, 0]), 'class index'),
    (torch.randn(4, 3), torch.tensor([0, 1, 2]), 'one prediction per target'),
])
def test_not_a_classifier_errors(preds, targs, msg):
    with pytest.raises(ValueError, match=msg.replace('(', r'\(').replace(')', r'\)')):
        ClassificationInterpretation.from_preds(preds, targs)

def test_plots():
    fig_ax = _interp().plot_confusion_matrix(figsize=(4, 4), normalize=True)
    assert [t.get_text() for t in fig_ax.texts][:3] == ['0.33', '0.33', '0.33'] and 'normalised' in fig_ax.get_title()
    plt.close('all')
    with pytest.raises(ValueError, match='inputs'): _interp().plot_top_losses(3)
    fig = _interp(inputs=torch.rand(8, 16)).plot_top_losses(k=4)        # flat inputs of a square size are shown as images
    assert len([a for a in fig.axes if a.images]) == 4
    plt.close('all')
    with pytest.raises(ValueError, match='not images'): _interp(inputs=torch.rand(8, 5)).plot_top_losses(2)

def _tiny_learner(n=20, c=4, **kw):
    "A random (untrained) 4-class model on random data: enough to check the Learner entry points."
    set_seed(0)
    x, y = torch.randn(n, 6), torch.arange(n) % c
    dl = [(x[:10], y[:10]), (x[10:], y[10:])]
    return Learner(model=nn.Linear(6, c), dls=(dl, dl), loss_func=nn.CrossEntropyLoss(), **kw), x, y

def test_from_learner_and_constructor_agree_and_clean_up():
    learn, x, y = _tiny_learner()
    n_cbs = len(learn.cbs)
    a, b = ClassificationInterpretation(learn), ClassificationInterpretation.from_learner(learn)
    assert torch.equal(a.confusion_matrix(), b.confusion_matrix()) and len(a) == 20
    with torch.no_grad(): want = learn.model(x.to(learn.device)).argmax(1).cpu()   # get_preds put the model on the default device
    assert torch.equal(a.decoded, want) and torch.equal(a.targs, y) and torch.equal(a.inputs, x)
    assert len(learn.cbs) == n_cbs                               # the input-collecting callback is removed
    other = [(x[:5], y[:5])]
    assert len(ClassificationInterpretation.from_learner(learn, dl=other)) == 5

def test_callback_removed_even_when_prediction_fails():
    class Boom(Callback):
        def after_pred(self): raise RuntimeError('boom')
    learn, _, _ = _tiny_learner(cbs=[Boom()])
    n_cbs = len(learn.cbs)
    with pytest.raises(RuntimeError, match='boom'): ClassificationInterpretation(learn)
    assert len(learn.cbs) == n_cbs

def test_regression_learner_refused():
    set_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    learn = Learner(model=nn.Linear(3, 1), dls=([(x, y)], [(x, y)]), loss_func=F.mse_loss)
    with pytest.raises(ValueError, match='regression'): ClassificationInterpretation(learn)
    with pytest.raises(TypeError, match='takes a Learner'): ClassificationInterpretation(learn.model)
