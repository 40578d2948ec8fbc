"""The package layout ARCHITECTURE.md describes: one idea per module, layers, exercises apart, notebooks in export order.

These are cheap static checks of the source (ast), plus one import of the public API.
"""
import ast, json, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'learner_course'
LIB = sorted(p for p in PKG.glob('*.py') if p.name not in ('_modidx.py', '__init__.py'))
# Modules below `learner` (ARCHITECTURE.md, "Layers"): they reach the learner through `self.learn` or a `learn` argument.
BELOW = {'events', 'optim', 'losses', 'data', 'fashion', 'rng', 'histograms', 'persist', 'metrics', 'callbacks',
         'inference', 'schedule', 'tracking', 'checkpoint', 'guards', 'progress', 'cores'}
MAX_LINES = 350   # "about 300 lines": code a reader can hold in their head

def imports(path, top_level:bool=False):
    "The package modules `path` imports (relative imports, resolved to top-level names); `top_level`: at import time only."
    out = set()
    tree = ast.parse(path.read_text())
    for node in (tree.body if top_level else ast.walk(tree)):
        if isinstance(node, ast.ImportFrom) and node.level:
            mod = (node.module or '').split('.')[0]
            if mod: out.add(mod)
            else: out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith('learner_course'):
            parts = node.module.split('.')
            out.add(parts[1] if len(parts) > 1 else node.names[0].name)
    return out

@pytest.mark.parametrize('p', LIB, ids=[p.stem for p in LIB])
def test_module_is_small(p):
    n = len(p.read_text().split('\n'))
    assert n <= MAX_LINES, f'{p.name} has {n} lines: more than one idea? Split it (ARCHITECTURE.md, "Where new things go")'

@pytest.mark.parametrize('p', LIB, ids=[p.stem for p in LIB])
def test_library_never_imports_exercises(p):
    assert 'exercises' not in imports(p), f'{p.name} imports learner_course.exercises: library code must not depend on exercises'
    src = p.read_text()
    assert not re.search(r'^@checks\(|^\s*### BEGIN SOLUTION', src, re.M) or p.stem in _LIBRARY_ANSWERS, \
        f'{p.name} holds a check or an exercise solution: move it to nbs/exercises/'

# library names that are also exercise answers (one implementation, in the library; ARCHITECTURE.md)
_LIBRARY_ANSWERS = {'data', 'init', 'callbacks', 'inference'}

@pytest.mark.parametrize('p', [p for p in LIB if p.stem in BELOW], ids=[p.stem for p in LIB if p.stem in BELOW])
def test_modules_below_the_learner_never_import_it(p):
    bad = imports(p) & ({'learner'} | ({'learner', 'hooks', 'init', 'accel', 'debug', 'interpret', 'distributed', 'layers',
                                       'transfer', 'train'}))
    assert not bad, f'{p.name} imports {sorted(bad)}: modules below `learner` reach it through `self.learn` or a `learn` argument'

def test_no_import_cycles():
    graph = {p.stem: imports(p, top_level=True) & {q.stem for q in LIB} for p in LIB}   # what runs at import time
    def visit(n, path):
        if n in path: raise AssertionError(f"import cycle: {' -> '.join(path + [n])}")
        for m in graph.get(n, ()): visit(m, path + [n])
    for n in graph: visit(n, [])

def test_no_module_patches_another_modules_class():
    for p in LIB:
        tree = ast.parse(p.read_text())
        own = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        for f in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            if any(isinstance(d, ast.Name) and d.id == 'patch' or isinstance(d, ast.Call) and getattr(d.func, 'id', '') == 'patch'
                   for d in f.decorator_list):
                ann = f.args.args[0].annotation
                assert isinstance(ann, ast.Name) and ann.id in own, f'{p.name}: @patch on {ast.unparse(ann)}, a class of another module'

def test_exercises_live_in_their_package():
    ex = sorted(p.stem for p in (PKG/'exercises').glob('l[0-9][0-9].py'))
    assert ex, 'no exercise modules in learner_course/exercises/'
    for p in (ROOT/'nbs'/'exercises').glob('*.ipynb'):
        nb = json.loads(p.read_text())
        src = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')
        assert f'default_exp exercises.l{p.stem}' in src, f'nbs/exercises/{p.name} must create exercises.l{p.stem}'

def test_checks_notebooks_export_before_their_lessons():
    "nbdev exports in file-name order; a cell can only export into a module an earlier notebook created."
    names = sorted([p.name for p in (ROOT/'nbs').rglob('*.ipynb')])
    for p in (ROOT/'nbs'/'exercises').glob('*.ipynb'):
        lesson = next((q.name for q in (ROOT/'nbs').glob(f'{p.stem}_*.ipynb')), None)
        if lesson: assert names.index(p.name) < names.index(lesson), f'exercises/{p.name} must sort before {lesson}'

def test_public_api_has_no_exercises():
    code = ("import learner_course as lc, learner_course.exercises as ex; "
            "ns = {}; exec('from learner_course import *', ns); "
            "bad = [k for k, v in ns.items() if hasattr(v, 'or_reference') or getattr(v, '__module__', '').startswith('learner_course.exercises')]; "
            "print(bad); assert not bad")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]

def test_colab_badges_and_install_cells_follow_settings():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'colab_cells.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
