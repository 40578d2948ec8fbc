"""Benchmark: the cost of `ActivationStats` (histograms on) and `GradientStats` on the lesson-09 CNN.

Trains the lesson model on a Fashion-MNIST subset with and without the stats callbacks and prints the wall-time and
CPU-time ratios (target <= 1.15x), the share of the fit spent inside the hooks, the peak Python memory (tracemalloc),
the peak resident memory, and the bytes the callbacks keep.

A shared machine drifts by +-20 % within seconds, so each repetition runs every configuration once, in a shuffled
order, and the ratio is taken against the plain run *of the same repetition*; the median of those paired ratios is
reported with their range. Timing runs do not trace memory (tracemalloc slows every Python allocation, which would
charge the callbacks for the tracer); peak memory comes from separate traced runs, and the hook share from runs whose
hook function is wrapped in a timer.
Usage: python bench/bench_hooks.py [--n 3000] [--reps 15] [--bs 128] [--threads 1]
"""
import argparse, os, random, resource, statistics, time, tracemalloc, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from torch import nn
from learner_course.learner import Learner
from learner_course.rng import set_seed
from learner_course.data import fashion_dls
from learner_course.hooks import ActivationStats, GradientStats

def cnn():
    "The lesson-09 CNN."
    def cr(ni, nf, ks=3, act=True):
        c = nn.Conv2d(ni, nf, ks, stride=2, padding=ks//2)
        return nn.Sequential(c, nn.ReLU()) if act else c
    return nn.Sequential(cr(1, 8, ks=5), cr(8, 16), cr(16, 32), cr(32, 64), cr(64, 10, act=False), nn.Flatten())

in_hook = {}
def _time_hook(cb, key):
    "Wrap the callback's hook function and its per-batch work (`after_batch`) to add their seconds to `in_hook[key]`."
    in_hook.setdefault(key, 0.)
    def timed(f):
        def g(*args):
            t0 = time.perf_counter(); f(*args); in_hook[key] += time.perf_counter() - t0
        return g
    cb.hookfunc = timed(cb.hookfunc)
    if hasattr(cb, 'after_batch'): cb.after_batch = timed(cb.after_batch)

def run(dls, cbs, trace=False):
    "One epoch (train + valid); returns (wall seconds, CPU seconds, peak traced bytes or None)."
    set_seed(0)
    learn = Learner(cnn(), dls, lr=0.6, cbs=cbs)
    learn.logger = None
    if trace: tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    learn.fit(1)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    peak = None
    if trace: peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    return dt, dc, peak

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=3000); ap.add_argument('--reps', type=int, default=15)
    ap.add_argument('--bs', type=int, default=128); ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dls = fashion_dls(bs=a.bs, subset=(a.n, 500), normalize=False)
    configs = {'plain': lambda: [], 'ActivationStats': lambda: [ActivationStats()],
               'ActivationStats(every=10)': lambda: [ActivationStats(every=10)], 'GradientStats': lambda: [GradientStats()]}
    for _ in range(2): run(dls, [])   # warm-up
    wall, cpu = {k: [] for k in configs}, {k: [] for k in configs}
    order, rng = list(configs), random.Random(0)
    for _ in range(a.reps):
        rng.shuffle(order)
        for k in order:
            dt, dc, _ = run(dls, configs[k]())
            wall[k].append(dt); cpu[k].append(dc)
    peaks, kept, share = {}, {}, {}
    for k, mk in configs.items():
        cbs = mk(); _, _, peaks[k] = run(dls, cbs, trace=True)
        if cbs: kept[k] = cbs[0].nbytes
        if cbs and isinstance(cbs[0], ActivationStats):
            fracs = []
            for _ in range(3):
                cbs = mk(); _time_hook(cbs[0], k); dt, _, _ = run(dls, cbs)
                fracs.append(in_hook[k] / dt); in_hook[k] = 0.
            share[k] = statistics.median(fracs)
    print(f"lesson-09 CNN, {a.n} images, bs {a.bs}, 1 epoch, {a.reps} repetitions in shuffled order, {a.threads} threads")
    print(f"{'config':<27}{'median wall s':>14}{'wall ratio (range)':>24}{'CPU ratio':>11}{'peak traced MB':>16}{'stats kept':>12}")
    for k in configs:
        rw = [w / p for w, p in zip(wall[k], wall['plain'])]; rc = [c / p for c, p in zip(cpu[k], cpu['plain'])]
        rng_txt = f"{statistics.median(rw):.3f}x ({min(rw):.2f}-{max(rw):.2f})"
        print(f"{k:<27}{statistics.median(wall[k]):>14.3f}{rng_txt:>24}{statistics.median(rc):>10.3f}x"
              f"{peaks[k]/2**20:>16.2f}{kept.get(k, 0)/1024:>10.1f}KB")
    for k, v in share.items(): print(f"time in the {k} hooks and per-batch work: {v:.1%} of the fit (median of 3 timed runs)")
    print(f"peak resident memory of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")

if __name__ == '__main__': main()
