"Helpers shared by test_schedule, test_tracking and test_checkpoint: tiny random data, learners, state comparisons."
import copy
from functools import partial
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from learner_course.events import Callback
from learner_course.learner import Learner, TrainCB
from learner_course.rng import set_seed, get_rng_state


def tiny_dls(n=96, bs=16, seed=0, workers=0, noisy=False):
    "Random 4-feature, 3-class data; the training loader shuffles with a seeded generator (like fashion_dls)."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g); y = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
    train = Noisy(x, y) if noisy else TensorDataset(x, y)
    return (DataLoader(train, bs, shuffle=True, generator=torch.Generator().manual_seed(seed), num_workers=workers),
            DataLoader(TensorDataset(x[:32], y[:32]), bs, num_workers=workers))

class Noisy(Dataset):
    "A random augmentation: noise drawn when an item is loaded (in the worker process, if any)."
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i] + 0.1 * torch.randn_like(self.x[i]), self.y[i]

def model(dropout=0.): return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 3))

def make(opt_func=partial(torch.optim.SGD, momentum=0.9), lr=0.1, seed=0, dropout=0., dls=None, **kw):
    "A seeded Learner on `tiny_dls()` that prints no epoch lines."
    set_seed(seed)
    return Learner(model(dropout), dls or tiny_dls(), lr=lr, opt_func=opt_func, logger=None, **kw)

def weights(learn): return [p.detach().clone() for p in learn.model.parameters()]

def same_weights(a, b): return all(torch.equal(x, y) for x, y in zip(a, b))

def max_diff(a, b): return max((x - y).abs().max().item() for x, y in zip(a.model.parameters(), b.model.parameters()))

def same(a, b):
    "Are two nested states (dicts, lists, tuples, tensors, numbers) equal, tensors bit for bit?"
    if isinstance(a, torch.Tensor): return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict): return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)): return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
    return a == b

def snapshot(learn):
    "The learner's whole state and every random state, copied."
    return copy.deepcopy(learn.state_dict()), get_rng_state(learn.dls)

def groups(learn): return [{k: v for k, v in g.items() if k != 'params'} for g in learn.opt.param_groups]

class Scripted(Callback):
    "Overwrite `valid_loss` in each epoch row with scripted values (runs after MetricsCB, before the watchers)."
    order = 0
    def __init__(self, values): self.values = list(values)
    def after_epoch(self): self.learn.epoch_metrics['valid_loss'] = self.values[self.learn.epoch]

class CountBatches(Callback):
    order = 1
    def __init__(self): self.n = 0
    def after_batch(self): self.n += 1

class Crash(Callback):
    "A crash after the `batches`-th training batch of the learner, or at the end of epoch `epoch`."
    order = 99
    def __init__(self, batches=None, epoch=None): self.batches, self.at_epoch = batches, epoch
    def after_batch(self):
        if self.learn.training and self.learn.train_iter + 1 == self.batches: raise KeyboardInterrupt('crash')
    def after_epoch(self):
        if self.learn.epoch == self.at_epoch: raise KeyboardInterrupt('crash')

class ScaledTrainCB(TrainCB):
    "An fp16-style trainer (on the CPU too): a GradScaler on the model's device, following the loss-scaler protocol (learn.scaler, learn.step_skipped)."
    def __init__(self, init_scale=2.**10): self.init_scale, self.gs = init_scale, None
    def before_fit(self):
        if self.gs is None: self.gs = torch.amp.GradScaler(self.learn.device.type, init_scale=self.init_scale)
        self.learn.scaler = self.gs
    def backward(self): self.learn.scaler.scale(self.learn.loss).backward()
    def step(self):
        before = self.gs.get_scale()
        self.gs.step(self.learn.opt); self.gs.update()
        self.learn.step_skipped = self.gs.get_scale() < before
    def cleanup_fit(self): self.learn.scaler = None
    def state_dict(self): return {} if self.gs is None else self.gs.state_dict()
    def load_state_dict(self, sd):
        if self.gs is not None: self.gs.load_state_dict(sd)

class InfGrad(Callback):
    "Make one gradient infinite at the given training batches (counted over the learner's life)."
    def __init__(self, *at): self.at = set(at)
    def after_backward(self):
        if self.learn.training and self.learn.train_iter in self.at:
            next(self.learn.model.parameters()).grad[0, 0] = float('inf')
