"""Run every notebook in `nbs/` top to bottom with nbdev's test machinery.

Cells flagged with a `tst_flags` flag from settings.ini (`#| slow`, `#| gpu`) are skipped unless the flag is
listed in the environment variable `LC_TEST_FLAGS` (e.g. `LC_TEST_FLAGS=slow`); `#| eval: false` cells never run.
Each notebook's wall time is written to `tests/.nb_times.tsv` for the closing report.
"""
import os, time
from pathlib import Path
import pytest
import nbdev.test as nbt
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook_runs(nb):
    flags = get_config(path=ROOT).tst_flags.split()
    forced = os.environ.get('LC_TEST_FLAGS', '').split()
    ok, secs = nbt.test_nb(nb, skip_flags=flags, force_flags=forced, basepath=ROOT)
    with open(ROOT/'tests'/'.nb_times.tsv', 'a') as f: f.write(f'{nb.name}\t{secs:.1f}\t{"ok" if ok else "FAILED"}\n')
    assert ok, f'{nb.name} failed to run: see the traceback above'
