"""`tools/gpu_check.py`, the ten-minute check for a GPU machine, must itself work: on this CPU-only machine it runs the
checks that need no GPU, skips the others, and exits 0 only when none failed."""
import subprocess, sys
from nbrun import ROOT

def test_gpu_check_runs_its_cpu_part():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'gpu_check.py')], cwd=ROOT, capture_output=True, text=True, timeout=900)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''
    assert r.returncode == 0 and 'no failures' in last, f'{last}\n' + '\n'.join(l for l in r.stdout.splitlines() if l.startswith('FAIL'))
    assert 'PASS  final model' in r.stdout and 'PASS  device placement' in r.stdout
