"""Run a notebook top to bottom the way the test suite does: nbdev's runner, in a fresh Python process.

A fresh process per notebook is what a learner gets (a new kernel), and keeps one notebook's definitions from
leaking into the next. Cells flagged with a `tst_flags` flag from settings.ini (`#| slow`, `#| gpu`) are skipped
unless the flag is listed in the environment variable `LC_TEST_FLAGS` (e.g. `LC_TEST_FLAGS=slow`); `#| eval: false`
cells never run. Each run's wall time is appended to `tests/.nb_times.tsv` for the closing report. Under parallel test
workers (pytest -n 2, see conftest.py) `LC_TORCH_THREADS` caps each notebook's torch threads so the workers share the cores.
"""
import os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUNNER = """
import os, sys, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
from pathlib import Path
import nbdev.test as nbt
from nbdev.config import get_config
root, nb = Path(sys.argv[1]), Path(sys.argv[2])
cap = int(os.environ.get('LC_TORCH_THREADS', '0'))
if cap:   # parallel test workers share the cores: a notebook's own set_num_threads(2) is capped
    import torch
    _set = torch.set_num_threads
    torch.set_num_threads = lambda n: _set(max(1, min(n, cap)))
    _set(cap)
flags = get_config(path=root).tst_flags.split()
ok, secs = nbt.test_nb(nb, skip_flags=flags, force_flags=os.environ.get('LC_TEST_FLAGS', '').split(), basepath=root)
sys.exit(0 if ok else 1)
"""

def run_notebook(nb:Path, label:str=None, timeout=1200):
    "Run notebook `nb` in a fresh process; return (ok, seconds, stderr tail)."
    t0 = time.time()
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONWARNINGS='ignore::FutureWarning')
    r = subprocess.run([sys.executable, '-c', RUNNER, str(ROOT), str(nb)], capture_output=True, text=True, env=env,
                       timeout=timeout)
    secs = time.time() - t0
    with open(ROOT/'tests'/'.nb_times.tsv', 'a') as f:
        f.write(f'{label or nb.name}\t{secs:.1f}\t{"ok" if r.returncode == 0 else "FAILED"}\n')
    return r.returncode == 0, secs, r.stderr[-6000:]
