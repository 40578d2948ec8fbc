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

def cpu_flags():
    "The CPU's model and the vector extensions that matter here (Linux: /proc/cpuinfo)."
    try: info = open('/proc/cpuinfo').read()
    except OSError: return platform.processor() or 'unknown CPU', '?'
    model = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), '?')
    flags = next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), [])
    keep = [f for f in flags if f in ('avx2', 'fma') or f.startswith(('avx512', 'amx'))]
    return model, ' '.join(keep)

def hand_loop(epochs, subset, seed, amp, cl):
    "The final recipe without the Learner: same data, model, flips, label smoothing, AdamW, per-step one-cycle, flip-TTA test."
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
    t0, c0 = time.perf_counter(), time.process_time()
    for ep in range(epochs):
        model.train(); tot = n = 0
        for xb, yb in dls.train:
            if R.augment: xb = flip_shift(xb, pad=R.shift)
            with ac(): loss = loss_func(model(xb.contiguous(memory_format=fmt)), yb)
            loss.backward(); opt.step(); opt.zero_grad()
            tot += loss.item() * len(yb); n += len(yb)   # what the Learner's metrics and recorder also compute
            if sched.last_epoch < sched.total_steps - 1: sched.step()
    model.eval(); correct = 0
    with torch.no_grad(), ac():
        for xb, yb in dls.valid:
            xb = xb.contiguous(memory_format=fmt)
            p = model(xb).float().softmax(1)
            if R.tta: p = (p + model(xb.flip(-1)).float().softmax(1)) / 2
            correct += (p.argmax(-1) == yb).sum().item()
    return correct / len(dls.valid.dataset), time.perf_counter() - t0, time.process_time() - c0

def overhead(reps, amp, cl, subset=12800):
    "Learner / hand loop on short runs, interleaved in a shuffled order each repetition; median ratio and its range."
    import random
    ratios, tl, th = [], [], []
    for r in range(reps):
        order = ['learner', 'hand']; random.Random(r).shuffle(order)
        t = {}
        for who in order:
            if who == 'learner':
                t[who] = train_final(epochs=1, subset=subset, seed=42, out=None, progress=False, act_stats=False,
                                     amp=None if amp else False, channels_last=cl).train_seconds
            else: t[who] = hand_loop(1, subset, 42, amp, cl)[1]
        ratios.append(t['learner'] / t['hand']); tl.append(t['learner']); th.append(t['hand'])
        print(f"rep {r}: Learner {t['learner']:.2f} s, hand {t['hand']:.2f} s, ratio {ratios[-1]:.3f}", flush=True)
    print(f"{reps} interleaved repetitions of 1 epoch on {subset:,} images (+ flip-TTA test): Learner median {statistics.median(tl):.2f} s, "
          f"hand median {statistics.median(th):.2f} s; ratio Learner/hand median {statistics.median(ratios):.3f}x "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}; target <= 1.01x)")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[42, 1, 2])
    p.add_argument('--epochs', type=int, default=R.epochs)
    p.add_argument('--threads', type=int, default=None, help="default: the cores this process may use")
    p.add_argument('--subset', type=int, default=None)
    p.add_argument('--fp32', action='store_true', help='no mixed precision even where it is native')
    p.add_argument('--skip-loop', action='store_true', help='only the Learner runs')
    p.add_argument('--overhead', type=int, default=0, metavar='REPS',
                   help='instead: REPS interleaved short runs (1 epoch of 12,800 images) of each, and the median ratio')
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
    if a.overhead: return overhead(a.overhead, amp, cl)
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
    acc_h, wall_h, cpu_h = hand_loop(a.epochs, a.subset, a.seeds[0], amp, cl)
    print(f"hand loop, seed {a.seeds[0]}: test accuracy {acc_h:.4f}  wall {wall_h:6.1f} s  CPU {cpu_h:6.1f} s")
    print(f"Learner / hand loop (seed {a.seeds[0]}): wall {secs[0] / wall_h:.3f}x (target <= 1.01x)")

if __name__ == '__main__': main()
