"""Benchmark `learner_course.data`: fashion_dls cold (empty cache: decompress from the Debian files) and warm, and one
pass over the validation set in memory vs torchvision's PIL pipeline. Prints figures; asserts nothing.

Usage: python bench/bench_data.py   (uses a temporary cache; never touches ~/.cache or the network)
"""
import os, subprocess, sys, tempfile, time

CHILD = r'''
import time, torch, torchvision
torch.set_num_threads(1)
t0 = time.perf_counter()
from learner_course.data import fashion_dls, fashion_mnist
t1 = time.perf_counter(); dls = fashion_dls(); t2 = time.perf_counter(); fashion_dls(); t3 = time.perf_counter()
fashion_dls(subset=6000); t4 = time.perf_counter()
def one_pass(dl):
    t = time.perf_counter()
    for _ in dl: pass
    return time.perf_counter() - t
pil = one_pass(torch.utils.data.DataLoader(fashion_mnist(train=False, transform=torchvision.transforms.ToTensor()), batch_size=256))
mem = one_pass(dls.valid)
print(f"import {t1-t0:.2f}s | fashion_dls() first in process {t2-t1:.2f}s, again {t3-t2:.2f}s | subset=6000 {t4-t3:.2f}s")
print(f"one pass over 10,000 valid images: PIL+ToTensor {pil:.2f}s, in-memory {mem:.3f}s ({pil/mem:.0f}x)")
'''

if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, XDG_CACHE_HOME=cache); env.pop('FASHION_MNIST_DIR', None)
        for label in ('cold (empty cache, decompress Debian .gz)', 'warm (cache filled, new process)'):
            print(f'--- {label}', flush=True)
            subprocess.run([sys.executable, '-c', CHILD], env=env, check=True)
