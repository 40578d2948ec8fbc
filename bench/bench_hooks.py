"""Benchmark: the cost of `ActivationStats` (histograms on) and `GradientStats` on the lesson-05 CNN.

Trains the lesson model on a Fashion-MNIST subset with and without the stats callbacks, alternating the runs so
machine load affects both alike, and prints the wall-time and CPU-time ratios (target <= 1.15x), the peak Python
memory (tracemalloc), the peak resident memory, and the bytes the callbacks keep. On a shared machine wall times are
noisy: the best (minimum) of several alternating repetitions is reported, and CPU time (process_time) is the steadier
figure. Usage: python bench/bench_hooks.py [--n 3000] [--reps 5] [--bs 128]
"""
import argparse, os, resource, time, tracemalloc, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from torch import nn
from learner_course.learner import Learner, set_seed
from learner_course.data import fashion_dls
from learner_course.hooks import ActivationStats, GradientStats

def cnn():
    "The lesson-05 CNN."
    def cr(ni, nf, ks=3, act=True):
        c = nn.Conv2d(ni, nf, ks, stride=2, padding=ks//2)
        return nn.Sequential(c, nn.ReLU()) if act else c
    return nn.Sequential(cr(1, 8, ks=5), cr(8, 16), cr(16, 32), cr(32, 64), cr(64, 10, act=False), nn.Flatten())

in_hook = {}
def _time_hook(cb, key):
    "Wrap the callback's hook function to add the seconds spent inside it to `in_hook[key]`."
    f = cb.hookfunc; in_hook.setdefault(key, 0.)
    def timed(*args):
        t0 = time.perf_counter(); f(*args); in_hook[key] += time.perf_counter() - t0
    cb.hookfunc = timed

def run(dls, cbs):
    "One epoch (train + valid); returns (wall seconds, CPU seconds, peak traced bytes)."
    set_seed(0)
    learn = Learner(cnn(), dls, lr=0.6, cbs=cbs)
    learn.logger = lambda row: None
    tracemalloc.start(); t0, c0 = time.perf_counter(), time.process_time()
    learn.fit(1)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    return dt, dc, peak

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=3000); ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--bs', type=int, default=128); ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dls = fashion_dls(bs=a.bs, subset=(a.n, 500), normalize=False)
    configs = {'plain': lambda: [], 'ActivationStats': lambda: [ActivationStats()],
               'ActivationStats(every=10)': lambda: [ActivationStats(every=10)], 'GradientStats': lambda: [GradientStats()]}
    run(dls, [])   # warm-up
    wall, cpu, peaks, kept = {k: [] for k in configs}, {k: [] for k in configs}, {}, {}
    share = {k: [] for k in configs}
    for _ in range(a.reps):
        for k, mk in configs.items():
            cbs = mk()
            if cbs and isinstance(cbs[0], ActivationStats): _time_hook(cbs[0], k)
            dt, dc, peak = run(dls, cbs)
            if k in in_hook: share[k].append(in_hook[k] / dt); in_hook[k] = 0.
            wall[k].append(dt); cpu[k].append(dc); peaks[k] = max(peak, peaks.get(k, 0))
            if cbs: kept[k] = cbs[0].nbytes
    bw, bc = min(wall['plain']), min(cpu['plain'])
    print(f"lesson-05 CNN, {a.n} images, bs {a.bs}, 1 epoch, best of {a.reps} alternating reps, {a.threads} threads")
    print(f"{'config':<28}{'wall s':>8}{'ratio':>8}{'cpu s':>8}{'ratio':>8}{'peak traced MB':>16}{'stats kept':>12}")
    for k in configs:
        w, c = min(wall[k]), min(cpu[k])
        print(f"{k:<28}{w:>8.2f}{w/bw:>7.3f}x{c:>8.2f}{c/bc:>7.3f}x{peaks[k]/2**20:>16.2f}{kept.get(k, 0)/1024:>10.1f}KB")
    for k, v in share.items():
        if v: print(f"time inside the {k} hooks (same run, robust to machine load): {min(v):.1%} of the fit")
    print(f"peak resident memory of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")

if __name__ == '__main__': main()
