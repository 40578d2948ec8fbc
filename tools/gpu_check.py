#!/usr/bin/env python
"""Exercise the paths that go wrong on a GPU, in a few minutes: `python tools/gpu_check.py` (on Colab: a GPU runtime).

Each check prints one line, PASS, FAIL (with the reason) or SKIP (needs hardware this machine lacks), then a summary.
The exit status is 0 only when no check failed; on a CUDA machine nothing is skipped, so 0 means all passed. Without a
GPU it says so and runs what can run on the CPU. Every check is independent (its own models, data and temporary
folder); one that fails or crashes does not stop the others, and the out-of-range-label check runs in a process of its
own, because on CUDA a device-side assert would end the CUDA context of the process it happens in.

Options: `-k WORDS` runs the checks whose name contains one of the words; `--list` lists them.
"""
import argparse, contextlib, io, json, math, os, subprocess, sys, tempfile, textwrap, time, traceback
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if (ROOT/'learner_course').is_dir(): sys.path.insert(0, str(ROOT))   # a clone's package before an installed one

import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import learner_course as lc

DEV = lc.default_device()
CUDA = DEV.type == 'cuda'

class Skip(Exception):
    "The check needs hardware this machine does not have."

CHECKS = {}   # name -> (function, run in a process of its own?)
def check(name, isolate=False):
    "Register a check: a function that returns a short note (or None) when it passes and raises when it fails."
    def deco(f): CHECKS[name] = (f, isolate); return f
    return deco

def need_cuda(what='a CUDA GPU'):
    if not CUDA: raise Skip(f'needs {what}')

# -- small models and data (random tensors: nothing to download) ----------------------------------------------------

def dls(n=96, bs=16, img=False, n_cls=4, seed=0, label_max=None):
    "A (train, valid) pair on fixed random data; `label_max`: the largest label (default n_cls - 1)."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 12, 12, generator=g) if img else torch.randn(n, 10, generator=g)
    y = torch.randint(0, n_cls, (n,), generator=g)
    if label_max is not None: y[-1] = label_max
    train = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(seed))
    return train, DataLoader(TensorDataset(x, y), batch_size=bs)

def mlp(n_cls=4): return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, n_cls))
def cnn(n_cls=4):
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, n_cls))

def learner(model=mlp, data=None, loss=F.cross_entropy, seed=0, **kwargs):
    "A Learner on random data with the course's defaults (DeviceCB included: it trains on the best device here)."
    lc.set_seed(seed)   # before `model()`: the same seed gives the same initial weights
    return lc.Learner(model(), data or dls(), loss, **kwargs)

class StopAfter(lc.Callback):
    "End the fit after `n` training batches."
    order = 1000
    def __init__(self, n): self.n, self.seen = n, 0
    def after_batch(self):
        if self.learn.training:
            self.seen += 1
            if self.seen >= self.n: raise lc.CancelFitException()

class Steps(lc.Callback):
    "Record, for each real optimizer step, `learn.scaler`, `learn.step_skipped` and the gradient norm the optimizer gets."
    order = -10   # after GradientClipping (-20), before the trainer's step
    def before_fit(self): self.scalers, self.skipped, self.norms = [], [], []
    def before_batch(self): self.cancelled = False
    def after_cancel_step(self): self.cancelled = True
    def before_step(self):
        self.scalers.append(getattr(self.learn, 'scaler', None))
        gs = [p.grad.float().flatten() for p in self.learn.model.parameters() if p.grad is not None]
        self.norms.append(torch.linalg.vector_norm(torch.cat(gs)).item())
    def after_step(self):
        if not self.cancelled: self.skipped.append(getattr(self.learn, 'step_skipped', None))

class Poison(lc.Callback):
    "Make the loss of training batch `i` infinite."
    def __init__(self, i): self.i = i
    def after_loss(self):
        if self.learn.training and self.learn.iter == self.i: self.learn.loss = self.learn.loss * math.inf

def same(a, b, what, atol=1e-5, rtol=1e-4):
    "Models `a` and `b` have the same weights (compared on the CPU)."
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        if p.is_floating_point(): torch.testing.assert_close(p.cpu(), q.cpu(), atol=atol, rtol=rtol, msg=lambda m: f'{what}: {k}: {m}')

# -- the checks ------------------------------------------------------------------------------------------------------

@check('device placement')
def device_placement():
    seen = {}
    class Where(lc.Callback):
        def after_pred(self): seen.setdefault('xb', self.learn.xb.device.type); seen.setdefault('pred', self.learn.pred.device.type)
    learn = learner(cbs=[Where()])
    learn.fit(1)
    devs = {'model': learn.device.type, **seen}
    assert set(devs.values()) == {DEV.type}, f'expected everything on {DEV.type}: {devs}'
    return f'model, batches and predictions on {DEV}'

@check('get_preds and predict give CPU float32')
def preds_cpu_float32():
    from learner_course.accel import MixedPrecision, amp_dtype
    low = amp_dtype(DEV) or torch.bfloat16
    notes = []
    for cbs, what in (([], 'float32'), ([MixedPrecision(dtype=low, verbose=False)], str(low).replace('torch.', ''))):
        learn = learner(cbs=cbs)
        learn.fit(1)
        preds, targs = learn.get_preds()
        one = learn.predict(torch.randn(3, 10))   # a CPU batch, as a user passes it
        for t, nm in ((preds, 'get_preds predictions'), (one, 'predict output')):
            assert (t.device.type, t.dtype) == ('cpu', torch.float32), f'{what}: {nm} are {t.dtype} on {t.device}'
        assert targs.device.type == 'cpu', f'{what}: targets on {targs.device}'
        notes.append(what)
    return 'trained in ' + ' and '.join(notes)

def _resume(opt_func, name):
    class StopAfterEpoch0(lc.Callback):
        order = 90   # after Checkpoint (80) saved epoch 0
        def after_epoch(self):
            if self.learn.epoch == 0: raise lc.CancelFitException()
    with tempfile.TemporaryDirectory() as d:
        kw = dict(opt_func=opt_func, lr=0.05, path=d)
        full = learner(**kw); full.fit(2)
        part = learner(**kw); part.fit(2, cbs=[lc.Checkpoint('ck'), StopAfterEpoch0()])
        resumed = learner(seed=1, **kw)   # other initial weights: the checkpoint must bring everything back
        resumed.load_checkpoint('ck')
        resumed.fit_resume()
        bad = [(tuple(s.shape), s.device.type) for st in resumed.opt.state.values() for s in st.values()
               if isinstance(s, torch.Tensor) and s.dim() and s.device.type != DEV.type]
        assert not bad, f'{name} state left on another device than the parameters ({DEV.type}): {bad[:3]}'
        same(full.model, resumed.model, f'{name}: resumed vs uninterrupted', atol=1e-6, rtol=1e-5)
    return f'{name}: 1 epoch + checkpoint + resume == 2 epochs on {DEV}'

@check('resume with SGD + momentum equals an uninterrupted run')
def resume_sgd(): return _resume(partial(torch.optim.SGD, momentum=0.9), 'SGD-momentum')

@check('resume with AdamW equals an uninterrupted run')
def resume_adamw(): return _resume(torch.optim.AdamW, 'AdamW')

@check('fp16: the loss scaler skips an inf step')
def fp16_skip():
    if DEV.type not in ('cuda', 'cpu'): raise Skip(f'no GradScaler for {DEV.type}')
    from learner_course.accel import MixedPrecision
    mp, steps = MixedPrecision(dtype=torch.float16, verbose=False), Steps()
    learn = learner(data=dls(n=96, bs=16))
    w = {}
    class Snap(lc.Callback):
        def before_batch(self):
            if self.learn.training and self.learn.iter in (2, 3): w[self.learn.iter] = [p.detach().clone() for p in self.learn.model.parameters()]
    learn.fit(1, valid=False, cbs=[mp, steps, Poison(2), Snap()])
    assert steps.skipped == [False, False, True, False, False, False], f'learn.step_skipped per step: {steps.skipped}'
    assert set(steps.scalers) == {mp.scaler} and getattr(learn, 'scaler', None) is None, 'learn.scaler during / after the fit'
    assert all(torch.equal(a, b) for a, b in zip(w[2], w[3])), 'the skipped step changed the weights'
    assert mp.n_skipped == 1 and mp.scaler.get_scale() == 65536 / 2, (mp.n_skipped, mp.scaler.get_scale())
    return f'GradScaler({DEV.type!r}): 1 of 6 steps skipped, scale halved, weights untouched'

@check('fp16: clipping under gradient accumulation sees unscaled gradients')
def fp16_clip_accumulation():
    if DEV.type not in ('cuda', 'cpu'): raise Skip(f'no GradScaler for {DEV.type}')
    from learner_course.accel import MixedPrecision, GradientAccumulation, GradientClipping
    steps, clip, ga = Steps(), GradientClipping(max_norm=0.05), GradientAccumulation(2)
    learn = learner(data=dls(n=128, bs=16))   # 8 micro-batches: 4 real steps
    learn.fit(1, valid=False, cbs=[ga, clip, MixedPrecision(dtype=torch.float16, verbose=False), steps, Poison(4)])
    assert ga.n_steps == 4 and len(clip.norms) == 4 == len(steps.norms), (ga.n_steps, len(clip.norms), len(steps.norms))
    assert steps.skipped == [False, False, True, False], f'learn.step_skipped per step: {steps.skipped}'
    fine = [n for i, n in enumerate(steps.norms) if i != 2]
    assert max(fine) <= 0.05 * 1.01, f'norms after clipping {fine}: the gradients were clipped while still scaled?'
    assert max(n for i, n in enumerate(clip.norms) if i != 2) > 0.05, 'clipping had nothing to do: the check proves nothing'
    return f'one unscale + clip per real step, the poisoned group skipped, norms <= max_norm'

@check('precision chosen by capability (bf16 only where native)')
def precision_rule():
    from learner_course.accel import amp_dtype, amp_choice, cpu_bf16_native, MixedPrecision
    from learner_course.distributed import DistributedCB
    if CUDA:
        cc = torch.cuda.get_device_capability()
        want = torch.bfloat16 if cc[0] >= 8 else torch.float16
        assert amp_dtype(DEV) == want, f'compute capability {cc}: amp_dtype says {amp_dtype(DEV)}, want {want}'
        mp = MixedPrecision(verbose=False)
        learner(cbs=[mp]).fit(1)
        assert mp.dtype == want and mp.scaler.is_enabled() == (want == torch.float16), (mp.dtype, mp.scaler.is_enabled())
        if want == torch.float16:
            for make, nm in ((lambda: learner(cbs=[MixedPrecision(dtype='bf16')]).fit(1), 'MixedPrecision(dtype="bf16")'),
                             (lambda: DistributedCB(mixed_precision='bf16').accelerator, "DistributedCB('bf16')")):
                try: make()
                except ValueError as e: assert 'fp16' in str(e) or 'MixedPrecision()' in str(e), f'{nm}: {e}'
                else: raise AssertionError(f'{nm} was accepted on a GPU without native bfloat16 (compute capability {cc})')
        return f'{torch.cuda.get_device_name()} (compute capability {cc[0]}.{cc[1]}): {amp_choice(DEV)[1]}'
    native = cpu_bf16_native()
    assert amp_dtype('cpu') == (torch.bfloat16 if native else None), amp_dtype('cpu')
    mp = MixedPrecision(verbose=False)
    learner(cbs=[mp]).fit(1)
    assert mp.dtype == (torch.bfloat16 if native else torch.float32), mp.dtype
    try: DistributedCB(mixed_precision='fp16', cpu=True).accelerator
    except ValueError as e: assert 'GPU' in str(e), e
    else: raise AssertionError("DistributedCB(mixed_precision='fp16') was accepted on the CPU")
    return f'CPU {torch.backends.cpu.get_cpu_capability()}: {amp_choice(torch.device("cpu"))[1]} (GPU rule not exercised)'

@check('channels-last: same numbers, NHWC weights and batches')
def channels_last():
    from learner_course.accel import ChannelsLast, channels_last_pays
    seen = []
    class Layout(lc.Callback):
        order = ChannelsLast.order + 1
        def before_batch(self): seen.append(self.learn.xb.is_contiguous(memory_format=torch.channels_last))
    cl = learner(model=cnn, data=dls(img=True), cbs=[ChannelsLast(), Layout()]); cl.fit(1)
    ref = learner(model=cnn, data=dls(img=True)); ref.fit(1)
    w = cl.model[3].weight
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous(), 'weights not channels-last'
    assert seen and all(seen), 'a batch reached the model in NCHW'
    same(cl.model, ref.model, 'channels-last vs NCHW training', atol=1e-4, rtol=1e-3)
    return f'on {DEV}; channels_last_pays({DEV.type!r}) = {channels_last_pays(DEV)}'

@check('TimingCB and the profiler see the device time')
def timing_and_profiler():
    from learner_course.accel import TimingCB, profile_fit
    tcb = TimingCB()
    learn = learner(model=cnn, data=dls(img=True))
    learn.fit(1, cbs=[tcb])
    assert tcb._sync == CUDA, f'TimingCB waits for the GPU: {tcb._sync}, on {learn.device}'
    assert all(tcb.times['train'][k] > 0 for k in ('forward', 'backward', 'step')), tcb.times['train']
    with contextlib.redirect_stderr(io.StringIO()):
        prof = profile_fit(learner(model=cnn, data=dls(img=True)), n_batch=3, row_limit=0)
    ev = prof.key_averages()
    assert any('convolution' in e.key for e in ev), 'no convolution in the profile'
    if CUDA:
        gpu = sum(e.self_device_time_total for e in ev)
        assert gpu > 0, 'the profile holds no CUDA kernel time'
        return f'TimingCB synchronises; profiler: {gpu / 1000:.1f} ms of CUDA kernels'
    return 'CPU: TimingCB does not synchronise, the profiler records CPU operations (CUDA activity not exercised)'

@check('loss buffers follow the device (LabelSmoothingCE(weight=), FocalLoss(alpha=))')
def loss_buffers():
    from learner_course.losses import LabelSmoothingCE, FocalLoss
    w = torch.tensor([1., 2., 1., 0.5])
    for loss in (LabelSmoothingCE(0.1, weight=w), FocalLoss(alpha=w)):
        learn = learner(loss=loss)
        learn.fit(1)
        assert math.isfinite(learn.recorder.losses[-1]), f'{type(loss).__name__}: loss {learn.recorder.losses[-1]}'
    return f'both trained on {DEV} with CPU-made weights'

@check('out-of-range labels are named before the device assert', isolate=True)
def labels_out_of_range():
    learn = learner(data=dls(n_cls=4, label_max=4))   # 4 outputs, and one label 4
    try: learn.fit(1)
    except Exception as e: msg = f'{type(e).__name__}: {e}'
    else: raise AssertionError('a label of 4 for a 4-class model trained without an error')
    assert 'label' in msg.lower() and '4' in msg and 'device-side assert' not in msg, f'unclear error: {msg[:300]}'
    if CUDA: torch.ones(2, device='cuda').sum().item()   # the CUDA context is still usable
    return msg.split('\n')[0][:110]

@check('activation/gradient statistics keep device memory flat')
def stats_memory():
    need_cuda('a CUDA GPU (torch.cuda.memory_allocated)')
    import gc
    learn = learner(model=cnn, data=dls(n=256, img=True))
    stats = [lc.ActivationStats(), lc.GradientStats()]
    learn.fit(1, cbs=stats)
    gc.collect(); torch.cuda.synchronize(); m1 = torch.cuda.memory_allocated()
    learn.fit(4, cbs=stats)
    gc.collect(); torch.cuda.synchronize(); m2 = torch.cuda.memory_allocated()
    assert m2 - m1 < 2**20, f'device memory grew by {(m2 - m1) / 2**20:.1f} MiB over 4 more epochs of statistics'
    return f'{(m2 - m1) / 2**10:.0f} KiB more after 4 more epochs'

@check('host waits per training step: about 1, with and without MixedPrecision (fp16: the scaler; else: the non-finite check)')
def host_waits():
    need_cuda('a CUDA GPU (torch.cuda.set_sync_debug_mode)')
    import warnings
    class Watch(lc.Callback):
        "From the start of each training batch (before the other callbacks) report synchronizing CUDA calls."
        order = -1000
        def before_batch(self):
            if self.learn.training: torch.cuda.set_sync_debug_mode('warn')
        def cleanup_fit(self): torch.cuda.set_sync_debug_mode('default')
    class Unwatch(lc.Callback):
        "... until the end of the batch (after the other callbacks): validation and the first-batch check are not counted."
        order = 1000
        def after_batch(self): torch.cuda.set_sync_debug_mode('default')
    out = []
    for name, cbs in (('default', []), ('MixedPrecision', [lc.MixedPrecision(verbose=False)])):
        learn = learner(model=cnn, data=dls(n=256, img=True), metrics=[lc.Accuracy()], logger=None, cbs=cbs)
        learn.fit(1)   # warm-up: CUDA initialisation, the first-batch check, the scaler's first steps are not what is counted
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            learn.fit(1, cbs=[Watch(), Unwatch()])
        waits = [x for x in w if 'synchroniz' in str(x.message).lower()]
        steps = len(learn.recorder.losses) // 2   # the second fit's half of the recorded losses
        where = {}
        for x in waits: where[f'{Path(x.filename).name}:{x.lineno}'] = where.get(f'{Path(x.filename).name}:{x.lineno}', 0) + 1
        per_step = len(waits) / max(steps, 1)
        assert per_step <= 1.5, f'{name}: {per_step:.1f} host waits per step (expected about 1); where: {where}'
        out.append(f'{name} {per_step:.1f} per step ({", ".join(f"{k} x{v}" for k, v in where.items())})')
    return '; '.join(out)

@check('final model: one short epoch, model.pth loads in a CPU-only process')
def final_model():
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, '-m', 'learner_course.train', '--epochs', '1', '--subset', '2048', '--bs', '128',
               '--out', d, '--no-progress']
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env={**os.environ, 'PYTHONPATH': _pypath()})
        assert r.returncode == 0, f'training failed: {(r.stdout + r.stderr)[-600:]}'
        summary = json.loads((Path(d)/'summary.json').read_text())
        assert summary.get('evaluated_on') == 'test', f"summary.json: evaluated on {summary.get('evaluated_on')!r}, not the test set"
        acc = summary['accuracy']
        code = textwrap.dedent(f'''
            import torch
            sd = torch.load({str(Path(d)/'model.pth')!r}, weights_only=True)   # no map_location: a CPU-only process
            sd = sd.get('model', sd)
            assert all(t.device.type == 'cpu' for t in sd.values())
            from learner_course import train
            m = train.get_model(); m.load_state_dict(sd); m.eval()
            print(tuple(m(torch.randn(2, 1, 28, 28)).shape))''')
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                           env={**os.environ, 'CUDA_VISIBLE_DEVICES': '', 'PYTHONPATH': _pypath()})
        assert r.returncode == 0 and '(2, 10)' in r.stdout, f'loading on the CPU failed: {r.stderr[-600:]}'
    return f'test accuracy after 1 epoch on 2,048 images: {acc:.3f}; model.pth loads with CUDA hidden'

@check('DistributedCB in one process')
def distributed_one_process():
    from learner_course.distributed import DistributedCB
    from learner_course.accel import GradientClipping
    plain = learner(); plain.fit(1)
    dist = learner(cbs=[DistributedCB()]); dist.fit(1)
    same(plain.model, dist.model, 'DistributedCB vs plain Learner')
    assert type(dist.model) is nn.Sequential, f'model still wrapped: {type(dist.model).__name__}'
    if not CUDA: return "same weights as the plain Learner (DistributedCB('fp16') needs a GPU: not exercised)"
    c16, c32 = GradientClipping(max_norm=0.05), GradientClipping(max_norm=0.05)
    learner(cbs=[DistributedCB(mixed_precision='fp16')]).fit(1, valid=False, cbs=[c16])
    learner().fit(1, valid=False, cbs=[c32])
    n16, n32 = c16.norms[0], c32.norms[0]
    assert abs(n16 - n32) < 0.05 * n32, f"first gradient norm under DistributedCB('fp16') {n16:.3g} vs float32 {n32:.3g}: clipped while scaled?"
    return f"same weights as the plain Learner; DistributedCB('fp16') clips real gradients ({n16:.3g} vs {n32:.3g})"

WORKER = '''
import os, torch
from torch.utils.data import DataLoader, TensorDataset
from torch import nn
import torch.nn.functional as F
import learner_course as lc
from learner_course.distributed import DistributedCB
lc.set_seed(0)
x, y = torch.randn(64, 10), torch.randint(0, 4, (64,))
dl = DataLoader(TensorDataset(x, y), batch_size=16)
dist = DistributedCB(timeout=60)
learn = lc.Learner(nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4)), (dl, dl), F.cross_entropy, cbs=[dist])
learn.fit(1)
print(f"rank {dist.rank} of {dist.world_size} on {learn.device}: done", flush=True)
'''

@check('launch(nproc=2): two processes, or the CPU when GPUs are too few')
def launch_two():
    from learner_course.distributed import launch
    with tempfile.TemporaryDirectory() as d:
        script = Path(d)/'worker.py'; script.write_text(WORKER)
        said = io.StringIO()
        with contextlib.redirect_stdout(said): out = launch(script, nproc=2, timeout=240, env={'PYTHONPATH': _pypath()})
    done = sorted(l for l in out.splitlines() if l.startswith('rank') and l.endswith('done'))
    assert len(done) == 2, f'expected two ranks to finish: {out[-800:]}'
    n_gpus = torch.cuda.device_count() if CUDA else 0
    if 0 < n_gpus < 2: assert 'gloo' in said.getvalue(), f'no reason printed for the CPU fallback: {said.getvalue()!r}'
    return ('; '.join(done) + (f' — {said.getvalue().strip()}' if said.getvalue().strip() else ''))[:200]

# -- running them --------------------------------------------------------------------------------------------------

def _pypath(): return os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])

def run_one(name):
    "Run check `name` here: (status, note, seconds)."
    f, _ = CHECKS[name]
    t0, out = time.time(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out): note = f()
        return 'PASS', note or '', time.time() - t0
    except Skip as e: return 'SKIP', str(e), time.time() - t0
    except Exception as e:
        where = traceback.extract_tb(e.__traceback__)[-1]
        reason = f'{type(e).__name__}: {e}'.replace('\n', ' ')
        return 'FAIL', f'{reason[:400]} [{Path(where.filename).name}:{where.lineno}]', time.time() - t0

def run_isolated(name):
    "Run check `name` in a fresh Python process (a CUDA device-side assert ends the process's CUDA context)."
    t0 = time.time()
    r = subprocess.run([sys.executable, __file__, '--run', name], capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'PYTHONPATH': _pypath()})
    try: status, note, _ = json.loads(r.stdout.strip().splitlines()[-1])
    except Exception: status, note = 'FAIL', f'the check process ended with code {r.returncode}: {(r.stdout + r.stderr)[-400:]}'
    return status, note, time.time() - t0

def header():
    import learner_course
    lines = [f'learner_course {getattr(learner_course, "__version__", "?")} ({Path(learner_course.__file__).parent}), '
             f'torch {torch.__version__}, {os.cpu_count()} CPUs ({torch.backends.cpu.get_cpu_capability()})']
    if CUDA:
        cc = torch.cuda.get_device_capability()
        lines.append(f'GPU: {torch.cuda.get_device_name()} (compute capability {cc[0]}.{cc[1]}), {torch.cuda.device_count()} device(s)')
    else:
        lines.append(f'No CUDA GPU here (device: {DEV}): running the checks that can run without one; GPU-only checks are '
                     'skipped. On Colab: Runtime → Change runtime type → GPU, then run this again.')
    return '\n'.join(lines)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-k', nargs='*', default=None, help='run only the checks whose name contains one of these words')
    p.add_argument('--list', action='store_true', help='list the checks and exit')
    p.add_argument('--run', help=argparse.SUPPRESS)   # internal: run one check, print its result as JSON
    a = p.parse_args(argv)
    if a.run: print(json.dumps(run_one(a.run))); return 0
    if a.list: print('\n'.join(CHECKS)); return 0
    names = [n for n in CHECKS if not a.k or any(w.lower() in n.lower() for w in a.k)]
    print(header(), flush=True)
    t0, results = time.time(), []
    for n in names:
        status, note, secs = (run_isolated if CHECKS[n][1] else run_one)(n)
        results.append(status)
        print(f'{status:4}  {n} ({secs:.0f} s){": " + note if note else ""}', flush=True)
    counts = {s: results.count(s) for s in ('PASS', 'FAIL', 'SKIP')}
    verdict = 'all passed' if not counts['FAIL'] and not counts['SKIP'] else 'no failures' if not counts['FAIL'] else 'FAILED'
    print(f"gpu_check: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped"
          f"{'' if CUDA else ' (no GPU)'} in {time.time() - t0:.0f} s — {verdict}")
    return 1 if counts['FAIL'] else 0

if __name__ == '__main__': sys.exit(main())
