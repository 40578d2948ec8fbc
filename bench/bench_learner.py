"""How much does the Learner cost? Lesson 04's model trained with `Learner.fit` (default callbacks) vs the same
work written by hand.

Both sides train the lesson-04 MLP on the same Fashion-MNIST batches (a fixed number of training batches, then
a validation pass), with plain SGD, and both compute what the Learner's default callbacks compute: every
training batch's loss as a float (Recorder), the average training and validation loss, and the validation
accuracy (MetricsCB). Runs are interleaved (learner, hand, learner, hand, ...) so that a change in machine load
hits both alike, and the medians are compared.

Usage:  python bench/bench_learner.py [--repeats 7] [--batches 40] [--bs 256] [--threads 2]
Prints both median times and the ratio learner/hand (target: <= 1.03).
"""
import argparse, copy, os, statistics, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.data import fashion_dls
from learner_course.learner import Learner
from learner_course.metrics import Accuracy

def get_model():
    "The lesson-04 MLP."
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

def data(n_batches, bs):
    "`n_batches` training batches and n_batches//4 validation batches of Fashion-MNIST, flattened, fixed order."
    n_valid = max(1, n_batches // 4)
    dls = fashion_dls(bs=bs, subset=(n_batches * bs, n_valid * bs), flatten=True)
    tx, ty = dls.train.dataset.tensors; vx, vy = dls.valid.dataset.tensors
    return DataLoader(TensorDataset(tx, ty), bs), DataLoader(TensorDataset(vx, vy), bs)

def run_learner(model, dls, lr):
    learn = Learner(model, dls, F.cross_entropy, lr=lr, metrics=[Accuracy()])
    learn.logger = lambda row: None
    t0 = time.perf_counter()
    learn.fit(1)
    return time.perf_counter() - t0, learn.epoch_metrics

def run_hand(model, dls, lr):
    tdl, vdl = dls
    t0 = time.perf_counter()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses, tot, n = [], 0., 0
    model.train()
    for xb, yb in tdl:
        loss = F.cross_entropy(model(xb), yb)
        loss.backward(); opt.step(); opt.zero_grad()
        losses.append(loss.item()); tot += losses[-1] * len(yb); n += len(yb)
    train_loss = tot / n
    model.eval()
    tot, correct, n = 0., 0, 0
    with torch.no_grad():
        for xb, yb in vdl:
            pred = model(xb)
            tot += F.cross_entropy(pred, yb).item() * len(yb); correct += (pred.argmax(1) == yb).sum().item(); n += len(yb)
    return time.perf_counter() - t0, dict(train_loss=train_loss, valid_loss=tot / n, accuracy=correct / n)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--batches', type=int, default=40)
    ap.add_argument('--bs', type=int, default=256)
    ap.add_argument('--threads', type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dls = data(a.batches, a.bs)
    torch.manual_seed(0); template = get_model()
    run_learner(copy.deepcopy(template), dls, 0.1); run_hand(copy.deepcopy(template), dls, 0.1)   # warm-up
    tl, th = [], []
    for i in range(a.repeats):
        order = (run_learner, run_hand) if i % 2 == 0 else (run_hand, run_learner)
        for fn in order:
            t, res = fn(copy.deepcopy(template), dls, 0.1)
            (tl if fn is run_learner else th).append(t)
            if fn is run_learner: res_l = res
            else: res_h = res
    for k in ('train_loss', 'valid_loss', 'accuracy'):   # same work, same numbers
        assert abs(res_l[k] - res_h[k]) < 1e-5, (k, res_l[k], res_h[k])
    ml, mh = statistics.median(tl), statistics.median(th)
    print(f"lesson-04 MLP, {a.batches} training + {len(dls[1])} validation batches of {a.bs}, {a.threads} threads, "
          f"{a.repeats} interleaved repeats")
    print(f"hand-written loop : median {mh*1000:8.1f} ms  (min {min(th)*1000:.1f}, max {max(th)*1000:.1f})")
    print(f"Learner.fit       : median {ml*1000:8.1f} ms  (min {min(tl)*1000:.1f}, max {max(tl)*1000:.1f})")
    print(f"ratio Learner/hand: {ml/mh:.3f}x  (target <= 1.03x)")

if __name__ == '__main__': main()
