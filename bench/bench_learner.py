"""How much does the Learner cost? Lesson 07's model trained with `Learner.fit` (default callbacks) vs the same work
written by hand.

Both sides train the lesson-07 MLP on the same Fashion-MNIST batches (a fixed number of training batches, then a
validation pass), with plain SGD, and both compute what the Learner's default callbacks compute: every training
batch's loss as a float (Recorder), the average training and validation loss, and the validation accuracy
(MetricsCB). A third run is the Learner without its non-finite stop (`NonFiniteStop('ignore')`), which prices that
check. Runs are interleaved in a shuffled order each repetition so that a change in machine load hits all alike; each
repetition gives a ratio Learner/hand, and the median ratio is reported with its spread.

Every run does the same work, and a busy or shared machine can only add time to it, so the least disturbed run of
each kind (the minimum over the repetitions, as `timeit` reports) is the steadiest estimate of what each loop costs;
the target is judged on the ratio of those minimums, and the median of the per-repetition ratios is printed with its
range so that the machine's noise stays visible.

A second part prices the Learner's own work per batch where nothing hides it: a 4-to-2 linear layer on 400 small
batches already in memory (random numbers: a timing, not a training), the hand loop against the Learner with its
default callbacks, without NonFiniteStop, and with no callback but the training step.

Frozen configuration (change only together with the figures in bench/README.md): 200 training batches of 256 and
39 validation batches (the 10,000 test images hold 39 full batches), 15 repetitions, 2 threads.

Usage:  python bench/bench_learner.py [--repeats 15] [--batches 200] [--bs 256] [--threads 2]
Prints the times, the ratio learner/hand (target: <= 1.03), the Learner's extra cost per batch in microseconds (and the
part of it done once per fit: construction and the first-batch check), the non-finite stop's cost per training batch,
and the dispatch cost per batch of each callback set.
"""
import argparse, copy, os, platform, random, statistics, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from learner_course.data import fashion_dls
from learner_course.learner import Learner, TrainCB
from learner_course.metrics import Accuracy
from learner_course.guards import NonFiniteStop, first_batch_check

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

class Clock:
    "Adds up the time spent in the work both loops share: the model's forward, loss, backward, step, zero_grad and the data loader."
    def __init__(self, on=True): self.work, self.on = 0., on   # off: no timing at all (the dispatch part)
    def timed(self, f):
        "`f`, its time added to `work`."
        if not self.on: return f
        def g(*args):
            t0 = time.perf_counter()
            try: return f(*args)
            finally: self.work += time.perf_counter() - t0
        return g
    def loader(self, dl): return _TimedLoader(dl, self) if self.on else dl

class _TimedLoader:
    "Iterates `dl`, adding the time each batch takes to arrive to the clock."
    def __init__(self, dl, clock): self.dl, self.clock = dl, clock
    def __len__(self): return len(self.dl)
    def __getattr__(self, k): return getattr(self.dl, k)
    def __iter__(self):
        it, nxt = iter(self.dl), self.clock.timed(next)
        while True:
            try: b = nxt(it)
            except StopIteration: return
            yield b

class TimedTrainCB(TrainCB):
    "The default training step, each part timed on `clock`."
    def __init__(self, clock): self.clock = clock
    def predict(self):
        t0 = time.perf_counter(); TrainCB.predict(self); self.clock.work += time.perf_counter() - t0
    def get_loss(self):
        t0 = time.perf_counter(); TrainCB.get_loss(self); self.clock.work += time.perf_counter() - t0
    def backward(self):
        t0 = time.perf_counter(); TrainCB.backward(self); self.clock.work += time.perf_counter() - t0
    def step(self):
        t0 = time.perf_counter(); TrainCB.step(self); self.clock.work += time.perf_counter() - t0
    def zero_grad(self):
        t0 = time.perf_counter(); TrainCB.zero_grad(self); self.clock.work += time.perf_counter() - t0

class TimedNonFiniteStop(NonFiniteStop):
    "The default non-finite stop, the time of its per-batch checks added up in `secs`."
    def __init__(self, *args):
        super().__init__(*args); self.secs = 0.
    def after_loss(self):
        t0 = time.perf_counter(); NonFiniteStop.after_loss(self); self.secs += time.perf_counter() - t0
    def before_step(self):
        t0 = time.perf_counter(); NonFiniteStop.before_step(self); self.secs += time.perf_counter() - t0
    def after_step(self):
        t0 = time.perf_counter(); NonFiniteStop.after_step(self); self.secs += time.perf_counter() - t0

GUARD_SECS = []   # the non-finite checks' time in each run with them
ONCE_SECS = []    # each Learner run's own work done once per fit: construction and the first-batch check

def run_learner(model, dls, lr, guard=True):
    "Time `Learner.fit(1)` with the default callbacks (construction included); return (seconds, row, shared work seconds)."
    c = Clock()
    g = TimedNonFiniteStop('stop' if guard else 'ignore')
    t0 = time.perf_counter()
    learn = Learner(model, (c.loader(dls[0]), c.loader(dls[1])), F.cross_entropy, lr=lr, metrics=[Accuracy()], logger=None,
                    cbs=[TimedTrainCB(c), g])
    first_batch_check(learn)   # what `fit` does first (then it finds the check done), timed apart from the batches
    ONCE_SECS.append(time.perf_counter() - t0 - c.work)
    learn.fit(1)
    if guard: GUARD_SECS.append(g.secs)
    return time.perf_counter() - t0, learn.epoch_metrics, c.work

def run_hand(model, dls, lr, clock=True):
    "The same work written by hand; return (seconds, row, shared work seconds)."
    c = Clock(clock); T = c.timed
    t0 = time.perf_counter()
    tdl, vdl = c.loader(dls[0]), c.loader(dls[1])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    fwd, lossf, back, step, zero = T(model), T(F.cross_entropy), T(lambda l: l.backward()), T(opt.step), T(opt.zero_grad)
    losses, tot, n = [], 0., 0
    model.train()
    for xb, yb in tdl:
        loss = lossf(fwd(xb), yb)
        back(loss); step(); zero()
        losses.append(loss.item()); tot += losses[-1] * len(yb); n += len(yb)
    train_loss = tot / n
    model.eval()
    tot, correct, n = 0., 0, 0
    with torch.no_grad():
        for xb, yb in vdl:
            pred = fwd(xb)
            tot += lossf(pred, yb).item() * len(yb); correct += (pred.argmax(1) == yb).sum().item(); n += len(yb)
    return time.perf_counter() - t0, dict(train_loss=train_loss, valid_loss=tot / n, accuracy=correct / n), c.work

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
    ap.add_argument('--repeats', type=int, default=15)
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
    times, res, work = timed(runs, a.repeats)
    for k in ('train_loss', 'valid_loss', 'accuracy'):   # same work, same numbers
        assert abs(res['learner'][k] - res['hand'][k]) < 1e-5, (k, res['learner'][k], res['hand'][k])
    ratios = sorted(l / h for l, h in zip(times['learner'], times['hand']))
    # in-run: each run's own time outside the shared work; the Learner's extra over the hand loop's, against the hand total
    own = {k: [t - w for t, w in zip(times[k], work[k])] for k in runs}
    inrun = sorted((h + lo - ho) / h for h, lo, ho in zip(times['hand'], own['learner'], own['hand']))
    best = {k: min(v) for k, v in times.items()}
    n_b = a.batches + len(dls[1])
    print(f"CPU: {cpu_flags()}; torch {torch.__version__}, {a.threads} threads, ATEN_CPU_CAPABILITY="
          f"{os.environ.get('ATEN_CPU_CAPABILITY', 'default')}")
    print(f"lesson-07 MLP, {a.batches} training + {len(dls[1])} validation batches of {a.bs}, {a.repeats} shuffled repetitions")
    for k, label in (('hand', 'hand-written loop'), ('learner', 'Learner.fit'), ('no_guard', 'Learner, no NonFiniteStop')):
        v = times[k]
        print(f"{label:27s}: min {best[k]*1000:7.1f} ms  median {statistics.median(v)*1000:7.1f} ms  max {max(v)*1000:7.1f} ms"
              f"   outside the shared work: median {statistics.median(own[k]) / n_b * 1e6:4.0f} us per batch")
    print(f"ratio Learner/hand, in-run (hand total + the Learner's extra time outside the shared work): median "
          f"{statistics.median(inrun):.3f}x, range {inrun[0]:.3f}-{inrun[-1]:.3f}x  (target <= 1.03x)")
    print(f"ratio Learner/hand, whole runs: least disturbed {best['learner'] / best['hand']:.3f}x; per repetition median "
          f"{statistics.median(ratios):.3f}x, range {ratios[0]:.3f}-{ratios[-1]:.3f}x")
    extra = statistics.median(own['learner']) - statistics.median(own['hand'])
    print(f"Learner's extra cost: {extra / n_b * 1e6:.0f} us per batch (hand-written: {statistics.median(times['hand']) / n_b * 1e6:.0f} us per batch)")
    once = statistics.median(ONCE_SECS)
    per_batch = sorted((h + lo - once - ho) / h for h, lo, ho in zip(times['hand'], own['learner'], own['hand']))
    print(f"  of which once per fit (construction and first-batch check): {once * 1000:.1f} ms per fit, {once / n_b * 1e6:.0f} us per batch "
          f"here; without it, in-run ratio median {statistics.median(per_batch):.3f}x (range {per_batch[0]:.3f}-{per_batch[-1]:.3f}x)")
    print(f"NonFiniteStop: {statistics.median(GUARD_SECS) / a.batches * 1e6:.0f} us per training batch, timed inside the runs "
          f"(difference of the runs with and without it: {(statistics.median(own['learner']) - statistics.median(own['no_guard'])) / a.batches * 1e6:.0f} us)")
    dispatch(a.repeats)

def timed(runs, repeats):
    """Warm every run up, then run each once per repetition, in a shuffled order. Return its times, its last result and
    the time of its shared work (from runs that return (seconds, result, work seconds); others are timed here)."""
    for f in runs.values(): f()
    times, res, work = {k: [] for k in runs}, {}, {k: [] for k in runs}
    rnd = random.Random(0)
    for _ in range(repeats):
        order = list(runs); rnd.shuffle(order)
        for k in order:
            t0 = time.perf_counter(); r = runs[k](); t = time.perf_counter() - t0
            if r is None: times[k].append(t)
            else: times[k].append(r[0]); res[k] = r[1]; work[k].append(r[2])
    return times, res, work

def dispatch(repeats, n_train=400, n_valid=100):
    "The Learner's own cost per batch, on a model and batches so small that nothing else is left to time."
    g = torch.Generator().manual_seed(0)   # random numbers: this part times the loop, it does not train anything
    batches = [(torch.randn(8, 4, generator=g), torch.randint(0, 2, (8,), generator=g)) for _ in range(n_train)]
    tdl, vdl = DataLoader(batches, batch_size=None), DataLoader(batches[:n_valid], batch_size=None)
    def model(): torch.manual_seed(0); return nn.Linear(4, 2)
    def learner(**kw): return lambda: Learner(model(), (tdl, vdl), F.cross_entropy, lr=0.1, logger=None, **kw).fit(1)
    def hand(): run_hand(model(), (tdl, vdl), 0.1, clock=False)   # timed here, like the Learner runs
    runs = {'hand': hand,
            'default callbacks': learner(metrics=[Accuracy()]),
            'default, no NonFiniteStop': learner(metrics=[Accuracy()], cbs=[NonFiniteStop('ignore')]),
            'training step only': learner(default_cbs=False)}
    times, _, _ = timed(runs, repeats)
    n = n_train + n_valid
    hand_us = statistics.median(times['hand']) / n * 1e6
    print(f"dispatch, 4-2 linear layer, {n_train} + {n_valid} batches of 8 in memory: hand loop {hand_us:.0f} us per batch; "
          "the Learner adds, per batch (median of the per-repetition differences, and their range):")
    for k in list(runs)[1:]:
        d = sorted((l - h) / n * 1e6 for l, h in zip(times[k], times['hand']))
        print(f"  {k:27s}: {statistics.median(d):5.0f} us  ({d[0]:.0f} to {d[-1]:.0f})")

if __name__ == '__main__': main()
