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
    """nbdev's own runner on one worker runs lessons 04-07 one after another in one process: a notebook that changed a
    package object (a class attribute, a default) would break the lessons after it. (The whole course passes
    `nbdev_test --n_workers 1` too, in about 4 minutes; here only the lessons that write no files, so that this test
    cannot collide with the same notebooks run by the other pytest worker.)"""
    import os, subprocess, sys
    from pathlib import Path
    nbdev_test = Path(sys.executable).parent/'nbdev_test'
    env = dict(os.environ, MPLBACKEND='Agg')
    r = subprocess.run([str(nbdev_test), '--path', str(ROOT/'nbs'), '--file_re', r'^0[4-7]_.*\.ipynb$', '--skip_folder_re', '.',
                        '--n_workers', '1', '--do_print'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f'nbdev_test --n_workers 1 failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    assert sum('Completed' in l for l in (r.stdout + r.stderr).splitlines()) == 4, r.stdout[-2000:]   # 04, 05, 06, 07 all ran
