"""Every exercise, twice: its solution passes its check, and the stub a student starts from fails it.

Also: `student/` matches what the generator writes from `nbs/`, and no student notebook leaks a solution.
Exercise cells are exported, so each one is run in a copy of its module's namespace.
"""
import importlib, json, re
from pathlib import Path
import pytest
from learner_course.exercises import (BEGIN, END, ExerciseError, exercises_in, has_exercises, make_student_nb,
                                      stub_source)

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [p for p in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')) if has_exercises(p)]

def _module_of(nb_path, cell_src):
    "The module an exported exercise cell goes to."
    nb = json.loads(nb_path.read_text())
    default = next(m.group(1) for c in nb['cells'] if c['cell_type'] == 'code'
                   for m in [re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))] if m)
    m = re.search(r'^#\|\s*export(?:s)?[ \t]+(\S+)', cell_src, re.M)
    assert re.search(r'^#\|\s*exports?\b', cell_src, re.M), f'{nb_path.name}: exercise cells must be exported'
    return m.group(1) if m else default

CASES = [(nb, i, sol, chk) for nb in LESSONS for i, (sol, chk) in enumerate(exercises_in(nb))]
_CHECK = re.compile(r'check_(\w+)')
IDS = [f'{nb.stem}-{i}-{_CHECK.search(chk).group(1)}' for nb, i, sol, chk in CASES]

def _run(nb, sol, chk, stub):
    ns = dict(vars(importlib.import_module('learner_course.' + _module_of(nb, sol))))
    exec(compile(stub_source(sol) if stub else sol, f'<{nb.name} exercise>', 'exec'), ns)
    exec(compile(chk, f'<{nb.name} check>', 'exec'), ns)

@pytest.mark.parametrize('nb,i,sol,chk', CASES, ids=IDS)
def test_solution_passes_check(nb, i, sol, chk): _run(nb, sol, chk, stub=False)

@pytest.mark.parametrize('nb,i,sol,chk', CASES, ids=IDS)
def test_stub_fails_check(nb, i, sol, chk):
    with pytest.raises(ExerciseError): _run(nb, sol, chk, stub=True)

def test_every_lesson_has_exercises():
    "Lessons 01-12 each have exercises (00 explains them; 13 is the capstone run)."
    lessons = sorted(p.name for p in (ROOT/'nbs').glob('[0-9][0-9]_*.ipynb') if '01' <= p.name[:2] <= '12')
    missing = [n for n in lessons if n not in {p.name for p in LESSONS}]
    assert not missing, f'lessons without exercises: {missing}; add at least two, with checks'
    for p in LESSONS:
        if '01' <= p.name[:2] <= '12': assert len(exercises_in(p)) >= 2, f'{p.name} has fewer than two exercises'

@pytest.mark.parametrize('nb', LESSONS, ids=[p.name for p in LESSONS])
def test_student_notebook_up_to_date_and_without_solutions(nb, tmp_path):
    committed = ROOT/'student'/nb.name
    assert committed.exists(), f'student/{nb.name} is missing: run `python -m learner_course.exercises student`'
    make_student_nb(nb, tmp_path/nb.name)
    assert committed.read_text() == (tmp_path/nb.name).read_text(), \
        f'student/{nb.name} is out of date: run `python -m learner_course.exercises student` and commit'
    text = committed.read_text()
    assert BEGIN not in text and END not in text
    stu = json.loads(text)
    assert all(not c.get('outputs') for c in stu['cells']), 'student notebooks carry no outputs'
    assert not any(re.match(r'\s*#\s*\|\s*(export|default_exp)', l) for c in stu['cells'] for l in ''.join(c['source']).split('\n'))
    for sol, _ in exercises_in(nb):   # no line of any solution block survives (ignoring trivial lines)
        blocks = re.findall(re.escape(BEGIN) + r'\n(.*?)\n\s*' + re.escape(END), sol, re.S)
        for line in (l.strip() for b in blocks for l in b.split('\n')):
            if len(line) > 25 and not line.startswith('#'):
                assert line not in text, f'student/{nb.name} leaks solution line: {line!r}'
