"""Checks catch the mistakes learners make: every wrong answer in `tests/wrong_answers/lNN.py` fails its check,
and the message names the mistake (see tests/wrong_answers/README.md)."""
import importlib.util, re
import pytest
from nbrun import ROOT
from test_exercises import CASES, run_exercise
from learner_course.exercises import ExerciseError

def _load(p):
    spec = importlib.util.spec_from_file_location(f'wrong_{p.stem}', p)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m.WRONG

WRONG = {name: items for p in sorted((ROOT/'tests'/'wrong_answers').glob('l[0-9][0-9].py')) for name, items in _load(p).items()}
BY_NAME = {name: (nb, sol, chk) for nb, i, sol, chk, name in CASES}
ITEMS = [(name, slip, code, says) for name, items in WRONG.items() for slip, code, says in items]

def test_every_exercise_has_two_wrong_answers():
    few = {n: len(WRONG.get(n, [])) for n in BY_NAME if len(WRONG.get(n, [])) < 2}
    assert not few, f'exercises with fewer than two wrong answers in tests/wrong_answers/: {few}'

def test_wrong_answers_name_real_exercises():
    unknown = sorted(set(WRONG) - set(BY_NAME))
    assert not unknown, f'tests/wrong_answers/ names exercises that do not exist: {unknown}'

@pytest.mark.parametrize('name,slip,code,says', ITEMS, ids=[f'{n}-{s}' for n, s, c, w in ITEMS])
def test_wrong_answer_fails_with_its_message(name, slip, code, says):
    nb, sol, chk = BY_NAME[name]
    with pytest.raises(ExerciseError) as e: run_exercise(nb, sol, chk, answer=code)
    assert says.lower() in str(e.value).lower(), f'{name} ({slip}): the check said {str(e.value)!r}; expected it to mention {says!r}'
