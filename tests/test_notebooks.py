"""Run every notebook in `nbs/` — lessons, appendices, `index` and the checks in `nbs/exercises/` — top to bottom."""
import pytest
from nbrun import ROOT, run_notebook

NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook_runs(nb):
    ok, secs, err = run_notebook(nb, label=str(nb.relative_to(ROOT/'nbs')))
    assert ok, f'{nb.name} failed to run:\n{err}'
