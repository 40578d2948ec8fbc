"""The Learner as a practitioner first meets it: the quick start, an image classifier, the common patterns and
monitoring, each written as a user would write it (`from learner_course import ...`).

The image classifier runs on a small Fashion-MNIST subset (28x28 greyscale, so the CNN's first layer takes 1 channel
and the flattened size is 32*7*7). The quick start trains on random tensors and says so: it checks the API, not learning.
"""
import os
from functools import partial
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from learner_course import (Learner, Accuracy, TopKAccuracy, ProgressCallback, EarlyStoppingCallback, SaveModelCallback,
                            OneCycleLR, MixedPrecision, GradientClipping, ActivationStats, GradientStats, CSVLogger,
                            ClassificationInterpretation, fashion_dls, set_seed)

@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path); torch.set_num_threads(1)
    yield
    plt.close('all')

def test_quick_start_with_dummy_data():
    set_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    X_train, y_train = torch.randn(1000, 784), torch.randint(0, 10, (1000,))
    X_valid, y_valid = torch.randn(200, 784), torch.randint(0, 10, (200,))
    train_dl = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
    valid_dl = DataLoader(TensorDataset(X_valid, y_valid), batch_size=32)
    learn = Learner(dls=[train_dl, valid_dl], model=model, loss_func=nn.CrossEntropyLoss(), metrics=[Accuracy()],
                    cbs=[ProgressCallback()])
    learn.fit(n_epoch=5, lr=0.01)
    assert len(learn.recorder.values) == 5 and learn.recorder.losses[-1] < learn.recorder.losses[0] + 1
    pred = learn.predict(torch.randn(1, 784)); assert pred.shape == (1, 10)
    preds, targets = learn.get_preds(); assert preds.shape == (200, 10) and torch.equal(targets, y_valid)
    learn.save('my_model'); learn.load('my_model'); assert os.path.exists('models/my_model.pth')
    learn.summary()

def test_image_classification_example_on_fashion_mnist():
    set_seed(0)
    dls = fashion_dls(bs=64, subset=(1024, 256))
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    learn = Learner(dls=[dls.train, dls.valid], model=model, loss_func=nn.CrossEntropyLoss(), metrics=[Accuracy()],
                    cbs=[ProgressCallback(), EarlyStoppingCallback(patience=5), SaveModelCallback(name='best_fmnist')])
    learn.lr_find(num_it=20, show_plot=False)
    learn.fit(3, lr=0.01, cbs=[OneCycleLR(max_lr=0.05)])
    learn.plot_losses(); learn.plot_metrics()
    interp = ClassificationInterpretation(learn)
    interp.plot_confusion_matrix()
    interp.most_confused(min_val=5); interp.plot_top_losses(k=9)
    assert os.path.exists('models/best_fmnist.pth')
    assert learn.recorder.values[-1]['accuracy'] > 0.5

def test_common_patterns_and_monitoring():
    set_seed(0)
    dls = fashion_dls(bs=64, subset=(512, 128), flatten=True)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    act, grad = ActivationStats(every=2), GradientStats(every=2)
    learn = Learner(dls=[dls.train, dls.valid], model=model, loss_func=nn.CrossEntropyLoss(),
                    opt_func=partial(torch.optim.SGD, momentum=0.9), lr=0.05, metrics=[Accuracy(), TopKAccuracy(k=3)],
                    cbs=[ProgressCallback(), OneCycleLR(max_lr=1e-1), MixedPrecision(), EarlyStoppingCallback(patience=5),
                         SaveModelCallback('best_model'), CSVLogger()])
    learn.lr_find(show_plot=False)
    learn.fit(2, cbs=[act, grad, GradientClipping(max_norm=1.0)])
    act.plot_stats(); grad.plot_stats(); learn.plot_lr()
    assert os.path.exists('training_history.csv') and os.path.exists('models/best_model.pth')
    assert set(learn.recorder.values[-1]) >= {'train_loss', 'valid_loss', 'accuracy', 'top3_accuracy'}
    assert all(not m._forward_hooks for m in learn.model.modules())     # monitoring left no hooks behind
