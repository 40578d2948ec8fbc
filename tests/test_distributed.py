"""Lesson 11 for real: `DistributedCB` on 2 CPU processes (torchrun, gloo) against one process.

Tolerances: the 2-process run and the 1-process run see the same global batches (64 = 2 x 32, same seed and shuffle)
and DDP averages the two half-batch gradients, which equals the full-batch gradient up to float32 summation order.
After 2 epochs (16 steps) of an MLP without BatchNorm, weights agree to atol 1e-5, the losses to 1e-5, and accuracy
to within one validation image (a prediction on a near-tie may flip).
Every launch has a subprocess timeout (and the workers a short process-group timeout), so these tests cannot hang.
"""
import importlib.util, json, os, sys, time
from pathlib import Path
import pytest
import torch
from learner_course.distributed import launch, DistributedError, DistributedCB, _launch_on_cpu, _precision

HERE = Path(__file__).resolve().parent
WORKER = HERE/'ddp_worker.py'
spec = importlib.util.spec_from_file_location('ddp_worker', WORKER)
worker = importlib.util.module_from_spec(spec); spec.loader.exec_module(worker)

@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    "One real 2-process run (shared by the tests below): its output folder and log."
    out = tmp_path_factory.mktemp('ddp')
    log = launch(WORKER, '--out', out, nproc=2, timeout=150)
    return out, log

@pytest.fixture(scope='module')
def single():
    "The same training on one process, with the plain Learner."
    learn = worker.make_learner()
    learn.fit(worker.EPOCHS)
    return learn

def test_metrics_are_global_and_identical_on_every_rank(ddp_run):
    out, log = ddp_run
    r0, r1 = (json.loads((out/f'rank{r}.json').read_text()) for r in (0, 1))
    assert r0['world_size'] == r1['world_size'] == 2
    for k in ('train_loss', 'valid_loss', 'accuracy'): assert r0['metrics'][k] == r1['metrics'][k], k
    assert r0['losses'] == r1['losses']          # per-batch training losses are averaged over the processes
    assert r0['model_type'] == 'Sequential'      # the model is unwrapped after fit
    assert log.count('epoch 0 |') == 1 and log.count('epoch 1 |') == 1, 'only the main process prints rows'

def test_two_processes_match_one_process_with_the_same_global_batch(ddp_run, single):
    out, _ = ddp_run
    r0 = json.loads((out/'rank0.json').read_text())
    m, ref = r0['metrics'], single.epoch_metrics
    assert abs(m['valid_loss'] - ref['valid_loss']) < 1e-5, (m, ref)
    assert abs(m['train_loss'] - ref['train_loss']) < 1e-5, (m, ref)
    assert abs(m['accuracy'] - ref['accuracy']) <= 1/worker.SUBSET[1] + 1e-9, (m, ref)
    torch.testing.assert_close(torch.tensor(r0['losses']), torch.tensor(single.recorder.losses), atol=1e-5, rtol=0)

def test_checkpoint_from_main_process_loads_into_one_process_learner(ddp_run, single):
    out, _ = ddp_run
    f = out/'ddp.pth'
    assert [p.name for p in out.iterdir() if p.suffix != '.json'] == ['ddp.pth'], 'one checkpoint, no temporary files'
    sd = torch.load(f, weights_only=True)['model']
    assert not any(k.startswith('module.') for k in sd), 'saved from the unwrapped model'
    learn = worker.make_learner()
    learn.load(f)
    for (k, p), q in zip(learn.model.state_dict().items(), single.model.state_dict().values()):
        torch.testing.assert_close(p.cpu(), q.cpu(), atol=1e-5, rtol=0, msg=f'{k} differs from the one-process run')

def test_a_failing_rank_ends_the_run_with_an_error_naming_it(tmp_path):
    t0 = time.time()
    with pytest.raises(DistributedError) as e:
        launch(WORKER, '--out', tmp_path, '--fail-rank', 1, '--fail-batch', 3, '--timeout', 20, nproc=2, timeout=120)
    msg = str(e.value)
    assert 'failed on rank 1' in msg and 'injected failure at batch 3' in msg, msg[:500]
    assert not (tmp_path/'ddp.pth').exists(), 'no checkpoint from a failed run'
    assert time.time() - t0 < 120

def test_launch_kills_a_run_that_does_not_finish(tmp_path):
    script = tmp_path/'stuck.py'
    script.write_text("import os, time\nopen(os.path.join(os.path.dirname(__file__), f\"pid{os.environ['RANK']}\"), 'w')"
                      ".write(str(os.getpid()))\ntime.sleep(600)\n")
    with pytest.raises(DistributedError, match='did not finish within'):
        launch(script, nproc=2, timeout=12)
    for f in tmp_path.glob('pid*'):   # the workers that had started are gone
        pid = int(f.read_text())
        for _ in range(20):
            try: os.kill(pid, 0)
            except ProcessLookupError: break
            time.sleep(0.1)
        else: pytest.fail(f'worker {pid} still alive after launch timed out')


# -- without starting processes ---------------------------------------------------------------------------------------

def test_two_processes_on_one_gpu_run_on_the_cpu_or_fail_clearly():
    "NCCL cannot put two processes on one GPU (Colab's T4): launch falls back to the CPU and says why, or raises if told to."
    on_cpu, why = _launch_on_cpu(2, n_gpus=1)
    assert on_cpu and 'gloo' in why and 'nproc=1' in why
    assert _launch_on_cpu(2, n_gpus=2) == (False, None) and _launch_on_cpu(2, n_gpus=0) == (True, None)
    assert _launch_on_cpu(2, n_gpus=4, cpu=True) == (True, None)
    with pytest.raises(DistributedError, match='nproc=1'): _launch_on_cpu(2, n_gpus=1, cpu=False)

def test_precision_by_capability():
    "'auto' follows lesson 14's amp_dtype; bf16 on a GPU without native bf16 (T4) and fp16 on a CPU are refused with the fix."
    assert _precision('auto', 'cuda', torch.float16) == 'fp16' and _precision('auto', 'cuda', torch.bfloat16) == 'bf16'
    assert _precision('auto', 'cpu', None) == 'no' and _precision('auto', 'cpu', torch.bfloat16) == 'bf16'
    with pytest.raises(ValueError, match="mixed_precision='fp16'"): _precision('bf16', 'cuda', torch.float16)
    with pytest.raises(ValueError, match='needs a CUDA GPU'): _precision('fp16', 'cpu', None)
    assert _precision('bf16', 'cpu', None) == 'bf16'   # asked for explicitly on a CPU: emulated but allowed

def test_missing_accelerate_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'accelerate', None)   # as if it were not installed
    with pytest.raises(ImportError, match=r'learner_course\[distributed\]'): DistributedCB().accelerator

def test_accumulation_clips_only_real_steps_and_publishes_no_scaler():
    "DistributedCB(grad_accum=2) in one process: steps between syncs are cancelled, so clipping runs once per real step."
    from learner_course.events import Callback
    from learner_course.accel import GradientClipping
    class Seen(Callback):
        def before_fit(self): self.scalers, self.skipped = [], []
        def before_step(self): self.scalers.append(self.learn.scaler)
        def after_step(self): self.skipped.append(self.learn.step_skipped)
    clip, seen = GradientClipping(max_norm=1.0), Seen()
    learn = worker.make_learner([DistributedCB(grad_accum=2)])
    learn.fit(1, valid=False, cbs=[clip, seen])
    n = len(learn.dls.train)
    assert len(clip.norms) == len(seen.scalers) == n // 2 and set(seen.scalers) == {None} and not any(seen.skipped)
    assert learn.scaler is None

def test_one_cycle_under_distributed_accumulation_plans_real_steps():
    "DistributedCB(grad_accum=2) declares n_acc like GradientAccumulation: a one-cycle schedule spans the real steps."
    from learner_course.schedule import OneCycleLR
    oc = OneCycleLR(max_lr=0.1)
    learn = worker.make_learner([DistributedCB(grad_accum=2)])
    learn.fit(1, valid=False, cbs=[oc])
    assert oc.sched.total_steps == -(-len(learn.dls.train) // 2) and learn.recorder.lrs[-1] == min(learn.recorder.lrs)

@pytest.mark.skipif(not torch.cuda.is_available(), reason='fp16 loss scaling needs a CUDA GPU')
def test_clipping_under_distributed_fp16_sees_real_gradients():
    "GradientClipping unscales DistributedCB('fp16')'s scaler before clipping: the norms it records are the real ones."
    from learner_course.accel import GradientClipping
    clip16, clip32 = GradientClipping(max_norm=0.5), GradientClipping(max_norm=0.5)
    worker.make_learner([DistributedCB(mixed_precision='fp16')]).fit(1, valid=False, cbs=[clip16])
    worker.make_learner().fit(1, valid=False, cbs=[clip32])
    finite = [(a, b) for a, b in zip(clip16.norms, clip32.norms) if a == a and a != float('inf')]
    assert finite and all(abs(a - b) < 0.05 * b + 1e-3 for a, b in finite[:3])   # not 65536 times too big
