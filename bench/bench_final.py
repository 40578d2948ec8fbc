"""Benchmark the course's final Fashion-MNIST recipe: time to accuracy, per seed, and the Learner vs a hand-written loop.

For each seed, trains the final recipe (`learner_course.cli.RECIPE`) with `train_final` on all 60,000 training images
and measures the test accuracy once at the end, as the main job does; prints accuracy and training seconds per seed,
their medians, the CPU's vector extensions, the precision and layout chosen, and the thread count. Then (unless
--skip-loop) the same recipe written as a plain PyTorch loop for the first seed, and the ratio Learner / hand loop.
Not a test: figures only. Run it on a quiet machine.

Usage: python bench/bench_final.py [--seeds 42 1 2] [--threads N] [--skip-loop] [--epochs E] [--subset N]
AVX2 case on an AVX-512 machine: ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python bench/bench_final.py --fp32
"""
import argparse, os, platform, statistics, time
from types import SimpleNamespace
import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler
from learner_course.cli import RECIPE as R
from learner_course.cores import torch_threads
from learner_course.rng import set_seed
from learner_course.data import fashion_dls
from learner_course.train import train_final, get_model, flip_shift
from learner_course.losses import LabelSmoothingCE
from learner_course.accel import amp_choice, channels_last_pays, cpu_bf16_native
from learner_course.callbacks import default_device
from learner_course.events import Callback
from bench_learner import Clock, TimedTrainCB   # this folder: the timed training step and loaders

def cpu_flags():
    "The CPU's model and the vector extensions that matter here (Linux: /proc/cpuinfo)."
    try: info = open('/proc/cpuinfo').read()
    except OSError: return platform.processor() or 'unknown CPU', '?'
    model = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), '?')
    flags = next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), [])
    keep = [f for f in flags if f in ('avx2', 'fma') or f.startswith(('avx512', 'amx'))]
    return model, ' '.join(keep)

def hand_loop(epochs, subset, seed, amp, cl, clock=None):
    """The final recipe without the Learner: same data, model, flips, label smoothing, AdamW, per-step one-cycle, flip-TTA
    test. With a `Clock`, the shared work of the training loop is timed on it and its wall time is returned fourth."""
    c = clock or Clock(on=False); T = c.timed
    set_seed(seed)
    dls = fashion_dls(bs=R.bs, subset=subset, seed=seed)
    model = get_model()
    fmt = torch.channels_last if cl else torch.contiguous_format
    model = model.to(memory_format=fmt)
    loss_func = LabelSmoothingCE(R.label_smoothing)
    opt = torch.optim.AdamW(model.parameters(), lr=R.lr, weight_decay=R.wd)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=R.lr, total_steps=epochs * len(dls.train), pct_start=R.pct_start,
                                    div_factor=25., final_div_factor=1e4 / 25, max_momentum=0.95, base_momentum=0.85)
    ac = lambda: torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp)
    fwd, lossf, back, step, zero = T(model), T(loss_func), T(lambda l: l.backward()), T(opt.step), T(opt.zero_grad)
    t0, c0 = time.perf_counter(), time.process_time()
    for ep in range(epochs):
        model.train(); tot = n = 0
        for xb, yb in c.loader(dls.train):
            if R.augment: xb = flip_shift(xb, pad=R.shift)
            with ac(): loss = lossf(fwd(xb.contiguous(memory_format=fmt)), yb)
            back(loss); step(); zero()
            tot += loss.item() * len(yb); n += len(yb)   # what the Learner's metrics and recorder also compute
            if sched.last_epoch < sched.total_steps - 1: sched.step()
    fit_secs = time.perf_counter() - t0
    model.eval(); correct = 0
    with torch.no_grad(), ac():
        for xb, yb in dls.valid:
            xb = xb.contiguous(memory_format=fmt)
            p = model(xb).float().softmax(1)
            if R.tta: p = (p + model(xb.flip(-1)).float().softmax(1)) / 2
            correct += (p.argmax(-1) == yb).sum().item()
    return correct / len(dls.valid.dataset), time.perf_counter() - t0, time.process_time() - c0, fit_secs

class FitWindow(Callback):
    "Times the fit alone (from before_fit to after_fit) and the shared work done inside it; times the loaders on `clock`."
    order = -1000
    def __init__(self, clock): self.c = clock
    def before_fit(self):
        self.t0, self.w0, self.saved = time.perf_counter(), self.c.work, self.learn.dls
        self.learn.dls = SimpleNamespace(train=self.c.loader(self.saved.train), valid=self.c.loader(self.saved.valid))
    def after_fit(self): self.fit, self.work = time.perf_counter() - self.t0, self.c.work - self.w0
    def cleanup_fit(self): self.learn.dls = self.saved

def overhead(reps, amp, cl, subset=12800):
    """Learner / hand loop on short runs, interleaved in a shuffled order each repetition. Whole runs give a median ratio
    and its range; inside each run the shared work (model, loss, backward, step, data) is timed, and the in-run ratio is
    the hand loop's fit plus the Learner's extra own work over the hand loop's fit (see bench/README.md)."""
    import random
    ratios, inrun, tl, th, own_l, own_h = [], [], [], [], [], []
    for r in range(reps):
        order = ['learner', 'hand']; random.Random(r).shuffle(order)
        t = {}
        for who in order:
            c = Clock()
            if who == 'learner':
                w = FitWindow(c)
                t[who] = train_final(epochs=1, subset=subset, seed=42, out=None, progress=False, act_stats=False,
                                     amp=None if amp else False, channels_last=cl, cbs=[TimedTrainCB(c), w]).train_seconds
                own_l.append(w.fit - w.work); fit_l = w.fit
            else:
                _, t[who], _, fit_h = hand_loop(1, subset, 42, amp, cl, clock=c)
                own_h.append(fit_h - c.work)
        ratios.append(t['learner'] / t['hand']); tl.append(t['learner']); th.append(t['hand'])
        inrun.append((fit_h + own_l[-1] - own_h[-1]) / fit_h)
        print(f"rep {r}: Learner {t['learner']:.2f} s (own work {own_l[-1]:.3f} s of its {fit_l:.2f} s fit), hand {t['hand']:.2f} s "
              f"(own work {own_h[-1]:.3f} s of {fit_h:.2f} s); ratio {ratios[-1]:.3f}, in-run {inrun[-1]:.4f}", flush=True)
    print(f"{reps} interleaved repetitions of 1 epoch on {subset:,} images (+ flip-TTA test): Learner median {statistics.median(tl):.2f} s, "
          f"hand median {statistics.median(th):.2f} s; ratio Learner/hand median {statistics.median(ratios):.3f}x "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}); in-run median {statistics.median(inrun):.4f}x "
          f"(range {min(inrun):.4f}-{max(inrun):.4f}; target <= 1.01x)")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[42, 1, 2])
    p.add_argument('--epochs', type=int, default=R.epochs)
    p.add_argument('--threads', type=int, default=None, help="default: the cores this process may use")
    p.add_argument('--subset', type=int, default=None)
    p.add_argument('--fp32', action='store_true', help='no mixed precision even where it is native')
    p.add_argument('--skip-loop', action='store_true', help='only the Learner runs')
    p.add_argument('--overhead', type=int, default=0, metavar='REPS',
                   help='instead: REPS interleaved short runs (1 epoch of --subset images, default 12,800) of each, and the median ratios')
    a = p.parse_args()
    threads = a.threads or torch_threads()[0]
    torch.set_num_threads(threads)
    dev = default_device()
    amp = False if a.fp32 else amp_choice(dev)[0] is not None
    cl = channels_last_pays(dev)
    model, flags = cpu_flags()
    print(f"CPU: {model} | flags: {flags or 'none of avx2/avx512/amx'} | native bf16: {cpu_bf16_native()} | "
          f"torch {torch.__version__} capability {torch.backends.cpu.get_cpu_capability()} | {threads} threads | "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"recipe: {R}")
    if a.overhead: return overhead(a.overhead, amp, cl, **({'subset': a.subset} if a.subset else {}))
    accs, secs = [], []
    for seed in a.seeds:
        res = train_final(epochs=a.epochs, subset=a.subset, seed=seed, out=None, progress=False, act_stats=False,
                          amp=None if amp else False)
        accs.append(res.accuracy); secs.append(res.train_seconds)
        print(f"seed {seed:3d}: test accuracy {res.accuracy:.4f}  training {res.train_seconds:6.1f} s  CPU {res.cpu_seconds:6.1f} s"
              f"  ({res.precision}, {res.layout}, {res.device})", flush=True)
    print(f"median of {len(a.seeds)} seeds: test accuracy {statistics.median(accs):.4f} (range {min(accs):.4f}-{max(accs):.4f}), "
          f"training {statistics.median(secs):.1f} s (range {min(secs):.1f}-{max(secs):.1f})")
    if a.skip_loop: return
    acc_h, wall_h, cpu_h, _ = hand_loop(a.epochs, a.subset, a.seeds[0], amp, cl)
    print(f"hand loop, seed {a.seeds[0]}: test accuracy {acc_h:.4f}  wall {wall_h:6.1f} s  CPU {cpu_h:6.1f} s")
    print(f"Learner / hand loop (seed {a.seeds[0]}): wall {secs[0] / wall_h:.3f}x (target <= 1.01x)")

if __name__ == '__main__': main()
