"""Run every notebook in `nbs/` top to bottom with nbdev's test machinery, each in a fresh Python process.

A fresh process per notebook is what a learner gets (a new kernel), and keeps one lesson's redefinitions of
package classes from leaking into the next. Cells flagged with a `tst_flags` flag from settings.ini (`#| slow`,
`#| gpu`) are skipped unless the flag is listed in the environment variable `LC_TEST_FLAGS` (e.g.
`LC_TEST_FLAGS=slow`); `#| eval: false` cells never run. Each notebook's wall time is appended to
`tests/.nb_times.tsv` for the closing report.
"""
import os, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

RUNNER = """
import os, sys, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
from pathlib import Path
import nbdev.test as nbt
from nbdev.config import get_config
root, nb = Path(sys.argv[1]), Path(sys.argv[2])
flags = get_config(path=root).tst_flags.split()
ok, secs = nbt.test_nb(nb, skip_flags=flags, force_flags=os.environ.get('LC_TEST_FLAGS', '').split(), basepath=root)
sys.exit(0 if ok else 1)
"""

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook_runs(nb):
    t0 = time.time()
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONWARNINGS='ignore::FutureWarning')
    r = subprocess.run([sys.executable, '-c', RUNNER, str(ROOT), str(nb)], capture_output=True, text=True, env=env,
                       timeout=1200)
    secs = time.time() - t0
    with open(ROOT/'tests'/'.nb_times.tsv', 'a') as f: f.write(f'{nb.name}\t{secs:.1f}\t{"ok" if r.returncode == 0 else "FAILED"}\n')
    assert r.returncode == 0, f'{nb.name} failed to run:\n{r.stderr[-6000:]}'
