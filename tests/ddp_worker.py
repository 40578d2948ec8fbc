"""Worker script for tests/test_distributed.py: a small Fashion-MNIST run under `DistributedCB`.

Run by `launch` (torchrun) on 2 CPU processes; the test builds the same Learner with `make_learner` in one process.
Options inject failures: `--fail-rank R --fail-batch B` makes rank R raise at training batch B; add `--hang` to make it
sleep there instead (alive but stuck), which only the process-group timeout can end.
"""
import argparse, json, os, time
import torch
from torch import nn
from learner_course.learner import Learner
from learner_course.events import Callback
from learner_course.rng import set_seed
from learner_course.metrics import Accuracy
from learner_course.data import fashion_dls

BS, SUBSET, LR, EPOCHS = 64, (512, 256), 0.1, 2   # global batch 64: 2 processes x 32 items

def make_learner(cbs=()):
    "The learner every run uses: same seed, same data order, same initial weights (an MLP: no BatchNorm)."
    set_seed(0)
    dls = fashion_dls(bs=BS, subset=SUBSET, seed=0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    return Learner(model, dls, lr=LR, metrics=[Accuracy()], cbs=list(cbs))

class FailAt(Callback):
    "Make process `rank` raise (or hang) at training batch `batch`."
    def __init__(self, rank, batch, hang): self.rank, self.batch, self.hang = rank, batch, hang
    def after_batch(self):
        if self.learn.training and self.learn.iter == self.batch and int(os.environ.get('RANK', 0)) == self.rank:
            if self.hang: time.sleep(600)
            raise RuntimeError(f'injected failure at batch {self.batch}')

def main():
    from learner_course.distributed import DistributedCB
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    p.add_argument('--fail-rank', type=int, default=-1)
    p.add_argument('--fail-batch', type=int, default=3)
    p.add_argument('--hang', action='store_true')
    p.add_argument('--timeout', type=float, default=60)
    a = p.parse_args()
    dist = DistributedCB(timeout=a.timeout)
    learn = make_learner([dist, FailAt(a.fail_rank, a.fail_batch, a.hang)])
    learn.fit(EPOCHS)
    dist.save(os.path.join(a.out, 'ddp.pth'))
    with open(os.path.join(a.out, f'rank{dist.rank}.json'), 'w') as f:
        json.dump({'metrics': learn.epoch_metrics, 'world_size': dist.world_size, 'losses': learn.recorder.losses,
                   'model_type': type(learn.model).__name__}, f)

if __name__ == '__main__': main()
