"""Packaging and set-up: the metadata builds without warnings, the license is present and declared, the requirements
have justified floors and stay light (no web stack, Accelerate optional), nbdev cannot overwrite the hand-written
README, and scripts/setup.sh is skipped when up to date and explains itself when it fails. All offline and quick."""
import os, re, shlex, shutil, subprocess, sys, time, zipfile
from configparser import ConfigParser
from email.parser import Parser
from importlib import metadata
from pathlib import Path
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
WEB_STACK = {'python-fasthtml', 'starlette', 'uvicorn', 'httpx', 'fastapi', 'flask', 'tornado', 'aiohttp',
             'websockets', 'uvloop', 'httptools', 'watchfiles', 'oauthlib', 'huggingface-hub', 'hf-xet'}

def _cfg():
    c = ConfigParser(delimiters=['=']); c.read(ROOT/'settings.ini', encoding='utf-8'); return c['DEFAULT']

def _reqs(key): return [Requirement(r) for r in shlex.split(_cfg().get(key, ''))]
def _norm(name): return re.sub(r'[-_.]+', '-', name).lower()
def _floor(req):
    lows = [Version(s.version) for s in req.specifier if s.operator in ('>=', '==', '~=')]
    return max(lows) if lows else None

@pytest.fixture(scope='module')
def wheel_build(tmp_path_factory):
    "Build the wheel from a copy of the sources, offline (no build isolation), with everything pip and setuptools say."
    import setuptools
    if int(setuptools.__version__.split('.')[0]) < 77:
        pytest.fail(f"setuptools {setuptools.__version__} has no license expressions (dev needs >=77): "
                    "run bash scripts/setup.sh")
    src, out = tmp_path_factory.mktemp('src'), tmp_path_factory.mktemp('wheel')
    for f in ('setup.py', 'settings.ini', 'README.md', 'LICENSE', 'MANIFEST.in'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'learner_course', src/'learner_course', ignore=shutil.ignore_patterns('__pycache__'))
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONDONTWRITEBYTECODE', 'PYTHONWARNINGS')}
    p = subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(src), '--no-deps', '--no-build-isolation', '-v',
                        '-w', str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    whl, = out.glob('learner_course-*.whl')
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
    return dict(log=p.stdout + p.stderr, names=names, meta=meta)

def test_wheel_builds_without_warnings(wheel_build):
    # pip's own "Location ... is ignored" lines come from this machine's pip configuration, not from the package
    warns = [l for l in wheel_build['log'].splitlines() if re.search(r'warn|deprecat', l, re.I)
             and not re.search(r"Location '.*' is ignored", l)]
    assert not warns, "the build warns:\n" + '\n'.join(warns)

def test_license_present_and_declared(wheel_build):
    text = (ROOT/'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text and 'END OF TERMS AND CONDITIONS' in text
    meta = wheel_build['meta']
    assert meta['License-Expression'] == 'Apache-2.0'
    assert meta.get_all('License-File') == ['LICENSE']
    assert any(n.endswith('.dist-info/licenses/LICENSE') for n in wheel_build['names'])
    assert not [c for c in meta.get_all('Classifier') if c.startswith('License ::')], "deprecated license classifier"
    assert 'Development Status :: 3 - Alpha' in meta.get_all('Classifier')   # settings.ini: status = 3

def test_accelerate_only_in_the_distributed_and_dev_extras(wheel_build):
    reqs = [Requirement(r) for r in wheel_build['meta'].get_all('Requires-Dist')]
    extras = {}
    for r in reqs:
        m = re.search(r'extra == "(\w+)"', str(r.marker)) if r.marker else None
        extras.setdefault(m.group(1) if m else None, set()).add(_norm(r.name))
    assert 'accelerate' not in extras[None], "accelerate is a runtime requirement again"
    assert 'accelerate' in extras['distributed'] and 'accelerate' in extras['dev']
    assert {'jupyterlab', 'nbdev', 'pytest'} <= extras['dev'] and not ({'jupyterlab', 'nbdev', 'pytest'} & extras[None])
    assert not (extras[None] & WEB_STACK)

def test_floors_parse_and_each_has_a_reason():
    cfg_text = (ROOT/'settings.ini').read_text().splitlines()
    reqs = _reqs('requirements')
    assert reqs, "no runtime requirements"
    for r in reqs:
        assert _floor(r) is not None, f"{r}: give a floor (>=)"
        assert not any(s.operator == '==' for s in r.specifier), f"{r}: a floor, not a pin"
        i = next(i for i, l in enumerate(cfg_text) if l.strip() == str(r) or l.strip().startswith(str(r.name) + '>'))
        assert cfg_text[i-1].strip().startswith('#'), f"{r}: write the reason (the API that sets the floor) above it"

def _uses(pattern): return any(re.search(pattern, f.read_text()) for f in (ROOT/'learner_course').rglob('*.py'))

@pytest.mark.parametrize('pkg,pattern,version', [
    ('torch', r'Dim\.DYNAMIC', '2.6'),                  # torch.export.Dim.DYNAMIC
    ('torch', r'torch\.amp\.GradScaler', '2.3'),
    ('torchvision', r'import torchvision', '0.21'),     # the torchvision built for the torch floor
    ('matplotlib', r"layout='constrained'", '3.5'),
    ('fastcore', r'from fastcore\.basics import', '1.3.8'),
    ('torcheval', r'from torcheval', '0.0.7'),          # the first release without torchtnt
])
def test_floor_covers_the_api_the_code_calls(pkg, pattern, version):
    if not _uses(pattern): pytest.skip(f"learner_course no longer uses {pattern}: this floor may be lowered")
    r = next(r for r in _reqs('requirements') if _norm(r.name) == pkg)
    assert _floor(r) >= Version(version), f"{r}: the code uses {pattern}, which needs {pkg}>={version}"

def test_runtime_dependencies_are_light():
    "The runtime requirements, resolved through what is installed here (offline), bring no web-server stack."
    seen, todo = {}, list(_reqs('requirements'))
    while todo:
        r = todo.pop(); name = _norm(r.name)
        if name in seen: continue
        try: dist = metadata.distribution(r.name)
        except metadata.PackageNotFoundError:
            if name.startswith(('nvidia-', 'cuda-', 'triton')): continue   # platform-specific torch parts
            pytest.fail(f"{r} is not installed: run bash scripts/setup.sh")
        assert r.specifier.contains(dist.version, prereleases=True), f"installed {name} {dist.version} does not satisfy {r}"
        seen[name] = dist.version
        for d in dist.requires or []:
            d = Requirement(d)
            if d.marker is None or d.marker.evaluate({'extra': ''}): todo.append(d)
    assert {'torch', 'torchvision', 'fastprogress', 'matplotlib'} <= set(seen)
    assert not (set(seen) & WEB_STACK), f"runtime dependencies include {sorted(set(seen) & WEB_STACK)}"

def test_readme_nb_can_never_overwrite_the_readme(tmp_path, monkeypatch):
    "nbdev_readme/nbdev_docs/nbdev_prepare (chk_time=True) skip a readme_nb that does not exist; Quarto is never called."
    nb = _cfg().get('readme_nb', '')
    assert nb.strip() and not (ROOT/'nbs'/nb).exists(), "readme_nb must name a notebook that does not exist"
    import nbdev.quarto as q
    from nbdev.config import get_config
    monkeypatch.chdir(ROOT); get_config.cache_clear()
    calls = []
    monkeypatch.setattr(q, '_sprun', lambda cmd: calls.append(cmd))
    monkeypatch.setattr(q, 'proc_nbs', lambda *a, **k: calls.append('proc_nbs') or tmp_path)
    before = (ROOT/'README.md').read_bytes()
    q.nbdev_readme.__wrapped__(chk_time=True)     # what nbdev_docs and nbdev_prepare call
    assert calls == [] and (ROOT/'README.md').read_bytes() == before
    # run by hand (chk_time=False), Quarto is asked to render a file that is not there: nothing comes back to move
    q.nbdev_readme.__wrapped__(chk_time=False)
    assert calls[0] == 'proc_nbs' and nb in calls[1] and (ROOT/'README.md').read_bytes() == before
    get_config.cache_clear()

def _fake_repo(tmp_path, python_body):
    "A copy of the set-up's inputs with a stand-in .venv/bin/python, to run scripts/setup.sh without installing anything."
    repo = tmp_path/'repo'
    (repo/'.venv'/'bin').mkdir(parents=True)
    shutil.copytree(ROOT/'scripts', repo/'scripts')
    for f in ('settings.ini', 'setup.py'): shutil.copy(ROOT/f, repo/f)
    py = repo/'.venv'/'bin'/'python'
    py.write_text('#!/usr/bin/env bash\n' + python_body); py.chmod(0o755)
    return repo

def _setup(repo, *args):
    env = dict(os.environ, FASHION_MNIST_DIR=str(repo))   # no apt-get here
    t = time.time()
    p = subprocess.run(['bash', 'scripts/setup.sh', *args], cwd=repo, capture_output=True, text=True, env=env, timeout=60)
    return p, time.time() - t

def test_setup_is_skipped_when_up_to_date_and_redone_when_settings_change(tmp_path):
    repo = _fake_repo(tmp_path, 'echo "ran: $*" >> "$(dirname "$0")/../calls"\nexit 1\n')
    calls = repo/'.venv'/'calls'
    # no stamp yet: the set-up runs (and stops at the stand-in's first failure)
    p, _ = _setup(repo)
    assert p.returncode != 0 and calls.exists()
    # pretend a set-up succeeded: write the stamp the script would write, then nothing runs and nothing is printed
    h = subprocess.run(['bash', '-c', "find settings.ini setup.py scripts -type f ! -name '*.pyc' | LC_ALL=C sort | "
                        "xargs sha256sum | sha256sum | cut -d' ' -f1"], cwd=repo, capture_output=True, text=True).stdout
    (repo/'.venv'/'.setup-hash').write_text(h); calls.unlink()
    p, dt = _setup(repo)
    assert p.returncode == 0 and p.stdout == p.stderr == '' and not calls.exists() and dt < 5
    # a changed settings.ini (or setup.py, or a script) makes it run again
    with open(repo/'settings.ini', 'a') as f: f.write('\n# changed\n')
    p, _ = _setup(repo)
    assert calls.exists(), "a changed settings.ini must re-run the set-up"

def test_setup_failure_shows_the_log_and_what_to_do(tmp_path):
    repo = _fake_repo(tmp_path, 'echo "ERROR: No matching distribution found for pip (stand-in failure)" >&2\nexit 1\n')
    p, _ = _setup(repo)
    assert p.returncode == 1
    assert 'Set-up failed while updating pip' in p.stderr
    assert 'No matching distribution found for pip (stand-in failure)' in p.stderr   # the captured log is shown
    assert 'What to do:' in p.stderr and 'rm -rf .venv' in p.stderr
    assert not (repo/'.venv'/'.setup-hash').exists()

def test_ci_runs_the_readme_test_command_and_readme_names_the_three_commands():
    assert re.search(r'^exec bash scripts/test\.sh\s*$', (ROOT/'.ci'/'run').read_text(), re.M)
    readme = (ROOT/'README.md').read_text()
    for cmd in ('bash scripts/train.sh', 'bash scripts/test.sh', 'bash scripts/jupyter.sh'): assert cmd in readme
