"""Every exercise, twice: its solution passes its check, and the stub a student starts from fails it.

Also: `student/` matches what the generator writes from `nbs/`, no student notebook leaks a solution or a check's
source, and every lesson has exercises. Exercise cells are exported, so each one runs in a copy of its module's
namespace.
"""
import importlib, json, re
from pathlib import Path
import pytest
from learner_course.exercises import ExerciseError
from learner_course.exercises.student import BEGIN, END, exercises_in, has_exercises, make_student_nb, stub_source

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [p for p in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')) if has_exercises(p)]

def module_of(nb_path, cell_src):
    "The module an exported exercise cell goes to."
    nb = json.loads(nb_path.read_text())
    default = next(m.group(1) for c in nb['cells'] if c['cell_type'] == 'code'
                   for m in [re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))] if m)
    m = re.search(r'^#\|\s*export(?:s)?[ \t]+(\S+)', cell_src, re.M)
    assert re.search(r'^#\|\s*exports?\b', cell_src, re.M), f'{nb_path.name}: exercise cells must be exported'
    return (m.group(1) if m else default).replace('.__init__', '')

_CHECK = re.compile(r'^check_\w+\((\w+)\)\s*$', re.M)
CASES = [(nb, i, sol, chk, _CHECK.search(chk).group(1)) for nb in LESSONS for i, (sol, chk) in enumerate(exercises_in(nb))]
IDS = [f'{nb.stem}-{name}' for nb, i, sol, chk, name in CASES]

def run_exercise(nb, sol, chk, answer=None):
    "Run `answer` (default: the solution cell `sol`), then the check cell `chk`, in a copy of `sol`'s module namespace."
    ns = dict(vars(importlib.import_module(f'learner_course.exercises.l{nb.name[:2]}')))   # the checks
    ns.update(vars(importlib.import_module('learner_course.' + module_of(nb, sol))))      # what the answer's cell sees
    exec(compile(sol if answer is None else answer, f'<{nb.name} exercise>', 'exec'), ns)
    exec(compile(chk, f'<{nb.name} check>', 'exec'), ns)

@pytest.mark.parametrize('nb,i,sol,chk,name', CASES, ids=IDS)
def test_solution_passes_check(nb, i, sol, chk, name): run_exercise(nb, sol, chk)

@pytest.mark.parametrize('nb,i,sol,chk,name', CASES, ids=IDS)
def test_stub_fails_check(nb, i, sol, chk, name):
    with pytest.raises(ExerciseError, match='stub'): run_exercise(nb, sol, chk, answer=stub_source(sol))

def test_every_lesson_has_exercises():
    "Lessons 01-20 each have at least one exercise with a check (00 explains them)."
    lessons = sorted(p.name for p in (ROOT/'nbs').glob('[0-9][0-9]_*.ipynb') if p.name[:2] != '00')
    missing = [n for n in lessons if n not in {p.name for p in LESSONS}]
    assert not missing, f'lessons without exercises: {missing}; add one, with a check in nbs/exercises/'

def test_checks_live_apart_from_lessons():
    "A lesson imports its checks from learner_course.exercises.lNN; it never defines one (that would show the answer)."
    for p in LESSONS:
        nb = json.loads(p.read_text())
        src = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')
        assert not re.search(r'^@checks\(', src, re.M), f'{p.name} defines a check: move it to nbs/exercises/{p.name[:2]}.ipynb'
        assert (ROOT/'nbs'/'exercises'/f'{p.name[:2]}.ipynb').exists(), f'nbs/exercises/{p.name[:2]}.ipynb is missing'

@pytest.mark.parametrize('nb', LESSONS, ids=[p.name for p in LESSONS])
def test_student_notebook_up_to_date_and_without_solutions(nb, tmp_path):
    committed = ROOT/'student'/nb.name
    assert committed.exists(), f'student/{nb.name} is missing: run `python -m learner_course.exercises.student`'
    make_student_nb(nb, tmp_path/nb.name)
    assert committed.read_text() == (tmp_path/nb.name).read_text(), \
        f'student/{nb.name} is out of date: run `python -m learner_course.exercises.student` and commit'
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
