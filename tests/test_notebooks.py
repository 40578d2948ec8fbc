"""Run every notebook in `nbs/` — lessons, appendices, `index` and the checks in `nbs/exercises/` — top to bottom."""
import pytest
from nbrun import ROOT, run_notebook

NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook_runs(nb):
    ok, secs, err = run_notebook(nb, label=str(nb.relative_to(ROOT/'nbs')))
    assert ok, f'{nb.name} failed to run:\n{err}'

def test_nbdev_runner_one_worker_keeps_package_objects_intact():
    """nbdev's own runner on one worker runs the core lessons 04-08 one after another in one process: a notebook that
    changed a package object (a class attribute, a default) would break the lessons after it."""
    import os, subprocess, sys
    from pathlib import Path
    nbdev_test = Path(sys.executable).parent/'nbdev_test'
    env = dict(os.environ, MPLBACKEND='Agg')
    r = subprocess.run([str(nbdev_test), '--path', str(ROOT/'nbs'), '--file_re', r'^0[4-8]_.*\.ipynb$', '--skip_folder_re', '.',
                        '--n_workers', '1', '--do_print'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    ran = [l for l in (r.stdout + r.stderr).splitlines() if 'Starting' in l or 'Completed' in l]
    assert r.returncode == 0, f'nbdev_test --n_workers 1 failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    assert sum('Completed' in l for l in ran) == 5, ran   # 04, 05, 06, 07, 08: all five ran
