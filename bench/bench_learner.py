"""How much does the Learner cost? Lesson 07's model trained with `Learner.fit` (default callbacks) vs the same work
written by hand.

Both sides train the lesson-07 MLP on the same Fashion-MNIST batches (a fixed number of training batches, then a
validation pass), with plain SGD, and both compute what the Learner's default callbacks compute: every training
batch's loss as a float (Recorder), the average training and validation loss, and the validation accuracy
(MetricsCB). A third run is the Learner without its non-finite stop (`NonFiniteStop('ignore')`), which prices that
check. Runs are interleaved in a shuffled order each repetition so that a change in machine load hits all alike; each
repetition gives a ratio Learner/hand, and the median ratio is reported with its spread.

Frozen configuration (change only together with the figures in bench/README.md): 200 training batches of 256 and
39 validation batches (the 10,000 test images hold 39 full batches), 9 repetitions, 2 threads.

Usage:  python bench/bench_learner.py [--repeats 9] [--batches 200] [--bs 256] [--threads 2]
Prints the median times, the ratio learner/hand (target: <= 1.03) with its range, the Learner's extra cost per
batch in microseconds, and the non-finite stop's cost per training batch.
"""
import argparse, copy, os, platform, random, statistics, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.data import fashion_dls
from learner_course.learner import Learner
from learner_course.metrics import Accuracy
from learner_course.guards import NonFiniteStop

def get_model():
    "The lesson-07 MLP."
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

def data(n_batches, bs):
    "`n_batches` training batches and n_batches//4 validation batches (at most the 10,000 test images) of Fashion-MNIST, flattened, fixed order."
    n_valid = max(1, min(n_batches // 4, 10000 // bs))
    dls = fashion_dls(bs=bs, subset=(n_batches * bs, n_valid * bs), flatten=True)
    tx, ty = dls.train.dataset.tensors; vx, vy = dls.valid.dataset.tensors
    return DataLoader(TensorDataset(tx, ty), bs), DataLoader(TensorDataset(vx, vy), bs)

def run_learner(model, dls, lr, guard=True):
    learn = Learner(model, dls, F.cross_entropy, lr=lr, metrics=[Accuracy()], logger=None,
                    cbs=[] if guard else [NonFiniteStop('ignore')])
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

def cpu_flags():
    "The CPU's model name and its vector/bf16 flags (Linux)."
    try: info = open('/proc/cpuinfo').read()
    except OSError: return platform.processor()
    name = next((l.split(':', 1)[1].strip() for l in info.split('\n') if l.startswith('model name')), '?')
    flags = next((l.split(':', 1)[1].split() for l in info.split('\n') if l.startswith('flags')), [])
    keep = sorted(f for f in set(flags) if f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'avx512_vnni', 'fma'))
    return f"{name} ({' '.join(keep)})"

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=9)
    ap.add_argument('--batches', type=int, default=200)
    ap.add_argument('--bs', type=int, default=256)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dls = data(a.batches, a.bs)
    torch.manual_seed(0); template = get_model()
    runs = {'learner': lambda: run_learner(copy.deepcopy(template), dls, 0.1),
            'no_guard': lambda: run_learner(copy.deepcopy(template), dls, 0.1, guard=False),
            'hand': lambda: run_hand(copy.deepcopy(template), dls, 0.1)}
    for f in runs.values(): f()   # warm-up
    times, res = {k: [] for k in runs}, {}
    rnd = random.Random(0)
    for _ in range(a.repeats):
        order = list(runs); rnd.shuffle(order)
        for k in order:
            t, r = runs[k](); times[k].append(t); res[k] = r
    for k in ('train_loss', 'valid_loss', 'accuracy'):   # same work, same numbers
        assert abs(res['learner'][k] - res['hand'][k]) < 1e-5, (k, res['learner'][k], res['hand'][k])
    ratios = sorted(l / h for l, h in zip(times['learner'], times['hand']))
    med = {k: statistics.median(v) for k, v in times.items()}
    n_b = a.batches + len(dls[1])
    print(f"CPU: {cpu_flags()}; torch {torch.__version__}, {a.threads} threads, ATEN_CPU_CAPABILITY="
          f"{os.environ.get('ATEN_CPU_CAPABILITY', 'default')}")
    print(f"lesson-07 MLP, {a.batches} training + {len(dls[1])} validation batches of {a.bs}, {a.repeats} shuffled repetitions")
    for k, label in (('hand', 'hand-written loop'), ('learner', 'Learner.fit'), ('no_guard', 'Learner, no NonFiniteStop')):
        v = times[k]; print(f"{label:27s}: median {med[k]*1000:8.1f} ms  (min {min(v)*1000:.1f}, max {max(v)*1000:.1f})")
    print(f"ratio Learner/hand: median {statistics.median(ratios):.3f}x, range {ratios[0]:.3f}-{ratios[-1]:.3f}x  (target <= 1.03x)")
    print(f"Learner's extra cost: {(med['learner'] - med['hand']) / n_b * 1e6:.0f} us per batch "
          f"(hand-written: {med['hand'] / n_b * 1e6:.0f} us per batch)")
    print(f"NonFiniteStop: {(med['learner'] - med['no_guard']) / a.batches * 1e6:.0f} us per training batch")

if __name__ == '__main__': main()
