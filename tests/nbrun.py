"""Run a notebook top to bottom the way the test suite does: nbdev's runner, in a process of its own.

A process per notebook is what a learner gets (a new kernel), and keeps one notebook's definitions from leaking into
the next. Starting Python and importing torch, torchvision (via torcheval), matplotlib, nbdev and the package costs
6-9 s on a small CPU, more than many notebooks take to run; so each test worker starts one *template* process that
imports them once, runs nothing, and forks a child per notebook. The child starts with those modules imported and
with nothing else from any other notebook; it reseeds Python's, NumPy's and torch's generators as a new process
would. Set `LC_NB_FRESH=1` to start a new interpreter per notebook instead (slower, same results); where the template
cannot start (say a library starts a thread on import, which would make forking unsafe) the runner does so by itself.

Cells flagged with a `tst_flags` flag from settings.ini (`#| slow`, `#| gpu`) are skipped unless the flag is listed in
the environment variable `LC_TEST_FLAGS` (e.g. `LC_TEST_FLAGS=slow`); `#| eval: false` cells never run. Each run's
wall time is appended to `tests/.nb_times.tsv` for the closing report. Under parallel test workers (pytest -n 2, see
conftest.py) `LC_TORCH_THREADS` caps each notebook's torch threads so the workers share the cores.
"""
import json, os, signal, subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in the notebook's own process (fresh or forked): cap torch's threads, then nbdev's runner.
RUN_NB = """
def run_nb(root, nb):
    import os, sys, warnings
    warnings.filterwarnings('ignore', category=FutureWarning)
    from pathlib import Path
    import nbdev.test as nbt
    from nbdev.config import get_config
    cap = int(os.environ.get('LC_TORCH_THREADS', '0'))
    if cap:   # parallel test workers share the cores: a notebook's own set_num_threads(2) is capped
        import torch
        _set = torch.set_num_threads
        torch.set_num_threads = lambda n: _set(max(1, min(n, cap)))
        _set(cap)
    flags = get_config(path=root).tst_flags.split()
    ok, secs = nbt.test_nb(Path(nb), skip_flags=flags, force_flags=os.environ.get('LC_TEST_FLAGS', '').split(),
                           basepath=Path(root))
    return ok
"""

FRESH = RUN_NB + """
import sys
sys.exit(0 if run_nb(sys.argv[1], sys.argv[2]) else 1)
"""

# The template: import what every notebook imports, start no thread, then fork one child per request (a JSON line on
# stdin: notebook, environment, output file); answer with the child's pid, then its exit status.
TEMPLATE = RUN_NB + """
import json, os, random, sys, threading, traceback, warnings
_filters = warnings.filters[:]
warnings.filterwarnings('ignore')
import numpy, torch, torchvision, matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot
import torcheval.metrics, fastprogress, IPython, execnb.shell, nbdev.test, nbdev.config
import learner_course.learner, learner_course.train
n_threads = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else threading.active_count()
if n_threads != 1: raise SystemExit(f'template process has {n_threads} threads after its imports: fork would be unsafe')
warnings.filters[:] = _filters   # as a new process starts

def child(req):
    code = 1
    try:
        fd = os.open(req['out'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)
        nul = os.open(os.devnull, os.O_RDONLY); os.dup2(nul, 0); os.close(nul)
        os.environ.clear(); os.environ.update(req['env'])
        random.seed(); numpy.random.seed(); torch.seed()   # a new process would not share the template's seeds
        code = 0 if run_nb(req['root'], req['nb']) else 1
    except BaseException: traceback.print_exc()
    finally:
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0: child(req)
    print(json.dumps(dict(pid=pid)), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps(dict(status=os.waitstatus_to_exitcode(status))), flush=True)
"""

_template = None
_fresh = os.environ.get('LC_NB_FRESH') == '1' or not hasattr(os, 'fork')   # a new interpreter per notebook

def _env():
    return dict(os.environ, MPLBACKEND='Agg', PYTHONWARNINGS='ignore::FutureWarning')

def _template_process():
    "This worker's template process, started on first use (and again if it died)."
    global _template
    if _template is None or _template.poll() is not None:
        # OpenBLAS (NumPy's) would start its thread pool on import; one thread keeps the template fork-safe
        _template = subprocess.Popen([sys.executable, '-c', TEMPLATE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=dict(_env(), OPENBLAS_NUM_THREADS='1'), cwd=ROOT)
    return _template

def _run_forked(nb:Path, timeout):
    "Run `nb` in a child of the template; return (exit code, output)."
    z = _template_process()
    with tempfile.NamedTemporaryFile('r', suffix='.log') as out:
        z.stdin.write(json.dumps(dict(root=str(ROOT), nb=str(nb), env=_env(), out=out.name)) + '\n'); z.stdin.flush()
        line = z.stdout.readline()
        if not line: raise RuntimeError('the template process ended before forking (LC_NB_FRESH=1 skips it)')
        pid = json.loads(line)['pid']
        timer = threading.Timer(timeout, os.kill, (pid, signal.SIGKILL)); timer.start()
        try: status = json.loads(z.stdout.readline())['status']
        finally: timer.cancel()
        return status, out.read()

def run_notebook(nb:Path, label:str=None, timeout=1200):
    "Run notebook `nb` in a process of its own; return (ok, seconds, output tail)."
    t0 = time.time()
    global _fresh
    code = None
    if not _fresh:
        try: code, out = _run_forked(nb, timeout)
        except RuntimeError as e:   # no template here (it found a thread, or died): new interpreters, as before
            _fresh = True; sys.stderr.write(f'nbrun: {e}; running each notebook in a new interpreter\n')
    if code is None:
        r = subprocess.run([sys.executable, '-c', FRESH, str(ROOT), str(nb)], capture_output=True, text=True,
                           env=_env(), timeout=timeout)
        code, out = r.returncode, r.stdout + r.stderr
    secs = time.time() - t0
    with open(ROOT/'tests'/'.nb_times.tsv', 'a') as f:
        f.write(f'{label or nb.name}\t{secs:.1f}\t{"ok" if code == 0 else "FAILED"}\n')
    return code == 0, secs, out[-6000:]
