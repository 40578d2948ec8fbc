"""Run every notebook in `nbs/` — lessons, appendices, `index` and the checks in `nbs/exercises/` — top to bottom.

A lesson with exercises is run once, as its solved student notebook (tests/test_student.py): that run executes the
lesson's own code, which `test_solved_student_notebook_is_the_lesson` checks cell by cell, so running the lesson
again here would repeat the same work."""
import json, re
import pytest
from nbrun import ROOT, run_notebook
from test_student import STUDENT, solved_cells
from learner_course.exercises.student import _source, fallback_source, BEGIN, END, _EXPORT_CALL

NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))
RUN_AS_STUDENT = {ROOT/'nbs'/p.name for p in STUDENT}
RUN_HERE = [p for p in NBS if p not in RUN_AS_STUDENT]

@pytest.mark.parametrize('nb', RUN_HERE, ids=[str(p.relative_to(ROOT/'nbs')) for p in RUN_HERE])
def test_notebook_runs(nb):
    ok, secs, err = run_notebook(nb, label=str(nb.relative_to(ROOT/'nbs')))
    assert ok, f'{nb.name} failed to run:\n{err}'

DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')

def _executed(cells, lesson=False):
    "(id, code without directives, skip directives) of each code cell nbdev's runner would consider."
    out = []
    for c in cells:
        src = _source(c)
        if c['cell_type'] != 'code' or _EXPORT_CALL in src: continue
        if lesson: src = fallback_source(src)
        lines = src.split('\n')
        skip = sorted(d for l in lines if (m := DIRECTIVE.match(l)) for d in [m.group(1).replace(' ', '')]
                      if d.startswith(('eval:', 'slow', 'gpu')))
        code = '\n'.join(l for l in lines if not DIRECTIVE.match(l) and l.strip() not in (BEGIN, END)).strip('\n')
        if code.strip(): out.append((c.get('id'), code, skip))
    return out

@pytest.mark.parametrize('path', STUDENT, ids=[p.name for p in STUDENT])
def test_solved_student_notebook_is_the_lesson(path):
    "The solved student notebook runs every code cell of the lesson, in order, with the same code and skip flags."
    lesson = json.loads((ROOT/'nbs'/path.name).read_text())
    exercise_ids = {c['id'] for c in lesson['cells'] if c['cell_type'] == 'code' and BEGIN in _source(c)}
    want, got = _executed(lesson['cells'], lesson=True), _executed(solved_cells(path))
    assert [w[0] for w in want] == [g[0] for g in got], f'{path.name}: the cells differ from the lesson\'s'
    for (id, w, wskip), (_, g, gskip) in zip(want, got):
        assert w == g, f'{path.name}, cell {id}: the solved student cell is not the lesson\'s code:\n{w}\n---\n{g}'
        if id not in exercise_ids: assert wskip == gskip, f'{path.name}, cell {id}: skip flags {wskip} became {gskip}'

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
