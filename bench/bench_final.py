"""Benchmark the course's final Fashion-MNIST recipe: the Learner vs the same recipe in a hand-written loop.

Prints test accuracy, wall time and CPU time of both, and the Learner's overhead ratio. Not a test: figures only.
Usage: python bench/bench_final.py [--epochs 10] [--threads 2] [--subset N] [--skip-loop]
"""
import argparse, os, time
import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler
from learner_course.rng import set_seed
from learner_course.data import fashion_dls
from learner_course.train import train_final, get_model, flip_shift as augment, _FinalRecipe as R, _amp_pays   # the same augmentation as BatchAugment()
from learner_course.losses import LabelSmoothingCE
from learner_course.callbacks import default_device

def hand_loop(epochs, subset):
    "The final recipe without the Learner: channels-last, autocast where it pays, label smoothing, AdamW, OneCycleLR per step."
    set_seed(R.seed)
    dls = fashion_dls(bs=R.bs, subset=subset, seed=R.seed)
    model = get_model(R.widths).to(memory_format=torch.channels_last)
    loss_func, amp = LabelSmoothingCE(R.label_smoothing), _amp_pays(default_device())
    cl = lambda x: x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=R.lr, weight_decay=R.wd)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=R.lr, total_steps=epochs * len(dls.train), pct_start=R.pct_start,
                                    div_factor=25., final_div_factor=1e4 / 25, max_momentum=0.95, base_momentum=0.85)
    t0, c0 = time.perf_counter(), time.process_time()
    for ep in range(epochs):
        model.train()
        for xb, yb in dls.train:
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
                loss = loss_func(model(cl(augment(xb) if R.augment else xb)), yb)
            loss.backward(); opt.step(); opt.zero_grad()
            if sched.last_epoch < sched.total_steps - 1: sched.step()
        model.eval(); correct = 0
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
            for xb, yb in dls.valid: correct += (model(cl(xb)).argmax(-1) == yb).sum().item()
        acc = correct / len(dls.valid.dataset)
    return acc, time.perf_counter() - t0, time.process_time() - c0

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=R.epochs)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--subset', type=int, default=None)
    p.add_argument('--skip-loop', action='store_true', help='only the Learner run')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"final recipe: {a.epochs} epochs, bs {R.bs}, lr {R.lr}, widths {R.widths}, label smoothing {R.label_smoothing}, "
          f"mixed precision {_amp_pays(default_device())}, channels-last, {a.threads} threads, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    res = train_final(epochs=a.epochs, subset=a.subset, out=None, progress=False, act_stats=False)
    print(f"Learner:     test accuracy {res.accuracy:.4f}  wall {res.train_seconds:6.1f} s  CPU {res.cpu_seconds:6.1f} s"
          f"  ({res.precision}, {res.layout}, {res.device})")
    if a.skip_loop: return
    acc_h, wall_h, cpu_h = hand_loop(a.epochs, a.subset)
    print(f"hand loop:   test accuracy {acc_h:.4f}  wall {wall_h:6.1f} s  CPU {cpu_h:6.1f} s")
    print(f"Learner / hand loop: wall {res.train_seconds / wall_h:.2f}x, CPU {res.cpu_seconds / cpu_h:.2f}x")

if __name__ == '__main__': main()
