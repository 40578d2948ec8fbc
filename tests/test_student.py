"""The learner's path: every student notebook runs to the end, unsolved and solved.

Unsolved (as committed in `student/`), each failing check must fall back to the course's reference so that *Run
All* reaches the last cell. Solved (each exercise cell replaced by its solution from `nbs/`), no check may fall back,
and every exercise name must still be the learner's own object when the notebook ends — later cells used it.
Cells flagged `#| slow` / `#| gpu` are skipped as in `nbs/`. Each run appends its time to `tests/.nb_times.tsv`.
"""
import json, re
import pytest
from nbrun import ROOT, run_notebook
from learner_course.exercises.student import _source, BEGIN, END

STUDENT = sorted((ROOT/'student').glob('[0-9][0-9]_*.ipynb'))
ORREF = re.compile(r'^(\w+) = check_\w+\.or_reference\(\1\)\s*$', re.M)

def _names(nb):
    "The exercise names of a student notebook, from its check cells, in order."
    return [m.group(1) for c in nb['cells'] if c['cell_type'] == 'code' for m in ORREF.finditer(_source(c))]

def _code_cell(src, id):
    return dict(cell_type='code', id=id, metadata={}, execution_count=None, outputs=[], source=src)

def _run_variant(path, cells, tag):
    "Write a variant of a student notebook beside it (same folder, so relative paths hold), run it, remove it."
    nb = json.loads(path.read_text())
    tmp = path.with_name(f'_{tag}_{path.name}')
    tmp.write_text(json.dumps(dict(nb, cells=cells)))
    try: return run_notebook(tmp, label=f'student/{path.name} ({tag})')
    finally: tmp.unlink()

@pytest.mark.parametrize('path', STUDENT, ids=[p.name for p in STUDENT])
def test_student_notebook_runs_unsolved(path):
    "Run All on the unsolved notebook reaches the end; every exercise fell back to the reference."
    nb = json.loads(path.read_text())
    names = _names(nb)
    assert names, f'{path.name} has no check cells of the form `X = check_X.or_reference(X)`'
    last = _code_cell("import learner_course.exercises as _ex\n"
                      f"assert sorted(set(_ex.FALLBACKS)) == {sorted(set(names))!r}, _ex.FALLBACKS", 'zz-final')
    ok, secs, err = _run_variant(path, nb['cells'] + [last], 'unsolved')
    assert ok, f'student/{path.name}, unsolved, does not run to the end:\n{err}'

def solved_cells(path):
    "The cells of student notebook `path` with each exercise cell replaced by the lesson's solution, without its markers."
    lesson = json.loads((ROOT/'nbs'/path.name).read_text())
    solutions = {c['id']: c for c in lesson['cells'] if c['cell_type'] == 'code' and BEGIN in _source(c)}
    cells = []
    for c in json.loads(path.read_text())['cells']:
        if c.get('id') in solutions:   # the learner's answer: the solution, without its markers
            src = '\n'.join(l for l in _source(solutions[c['id']]).split('\n')
                            if l.strip() not in (BEGIN, END) and not re.match(r'\s*#\s*\|', l))
            c = _code_cell(src, c['id'])
        cells.append(c)
    return cells

@pytest.mark.parametrize('path', STUDENT, ids=[p.name for p in STUDENT])
def test_student_notebook_runs_solved(path):
    """With the reference solutions pasted in, no check falls back and later cells use the learner's own objects.
    This run is also the lesson's own run: test_notebooks.py checks that it executes the lesson's code, cell by cell."""
    cells = solved_cells(path)
    names = _names(json.loads(path.read_text()))
    last = _code_cell("import learner_course.exercises as _ex\n"
                      "assert not _ex.FALLBACKS, f'fell back to the reference for {_ex.FALLBACKS}'\n"
                      f"for _n in {names!r}:\n"
                      "    _o = globals()[_n]\n"
                      "    assert getattr(_o, '__module__', '__main__') == '__main__', f'{_n} is {_o!r}, not the learner\\'s own'",
                      'zz-final')
    ok, secs, err = _run_variant(path, cells + [last], 'solved')
    assert ok, f'student/{path.name}, solved, fails:\n{err}'
