"""`bash scripts/jupyter.sh` for real: it starts JupyterLab on localhost (a free port, a token), the server lists the
lessons through its REST API, a kernel started through the API runs a lesson's first code cells and a small torch
computation over the kernel's websocket, then the kernel and the server stop and no process is left behind."""
import asyncio, json, os, re, secrets, signal, socket, subprocess, time, urllib.request, uuid
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _children(pid):
    "Every live descendant of `pid` (from /proc)."
    kids = {}
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
            except (OSError, IndexError): pass
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []): out.append(c); todo.append(c)
    return out

def _alive(pid):
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

class Server:
    def __init__(self, port, token): self.base, self.token = f'http://127.0.0.1:{port}', token
    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f'{self.base}{path}', method=method, data=data,
                                     headers={'Authorization': f'token {self.token}', 'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return r.status, (json.loads(data) if data else None)

async def _execute(ws_url, codes, timeout=60):
    "Run each code on the kernel's websocket (Jupyter's JSON message protocol); return [(status, stdout, result, error)]."
    from tornado.websocket import websocket_connect
    ws, session, out = await websocket_connect(ws_url), uuid.uuid4().hex, []
    try:
        for code in codes:
            mid = uuid.uuid4().hex
            ws.write_message(json.dumps({
                'header': {'msg_id': mid, 'session': session, 'username': 'test', 'msg_type': 'execute_request',
                           'version': '5.3'},
                'parent_header': {}, 'metadata': {}, 'channel': 'shell', 'buffers': [],
                'content': {'code': code, 'silent': False, 'store_history': True, 'user_expressions': {},
                            'allow_stdin': False, 'stop_on_error': True}}))
            status, stdout, result, error, idle, deadline = None, '', None, None, False, time.time() + timeout
            while status is None or not idle:
                raw = await asyncio.wait_for(ws.read_message(), max(0.1, deadline - time.time()))
                assert raw is not None, "the kernel's websocket closed"
                m = json.loads(raw)
                if m.get('parent_header', {}).get('msg_id') != mid: continue
                t, c = m['msg_type'], m['content']
                if t == 'stream' and c.get('name') == 'stdout': stdout += c['text']
                elif t == 'execute_result': result = c['data'].get('text/plain')
                elif t == 'error': error = f"{c['ename']}: {c['evalue']}"
                elif t == 'execute_reply': status = c['status']
                elif t == 'status' and c['execution_state'] == 'idle': idle = True
            out.append((status, stdout, result, error))
            if status != 'ok': break
    finally: ws.close()
    return out

def _first_code_cells(nb, n=3):
    "The first `n` code cells a learner runs (not those marked `#| eval: false`, such as the Colab install cell)."
    cells = [c for c in nb['cells'] if c['cell_type'] == 'code']
    src = lambda c: c['source'] if isinstance(c['source'], str) else ''.join(c['source'])
    return [src(c) for c in cells if not re.search(r'^#\|\s*eval:\s*false', src(c), re.M)][:n]

def test_jupyter_script_serves_the_course_and_runs_a_lesson(tmp_path):
    check = subprocess.run(['bash', 'scripts/setup.sh', '--check'], cwd=ROOT, capture_output=True, text=True)
    if check.returncode != 0: pytest.skip("the set-up is not up to date (bash scripts/setup.sh would install first)")
    port, token, t0 = _free_port(), secrets.token_hex(16), time.time()
    log = open(tmp_path/'jupyter.log', 'w+')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path/'cfg'), JUPYTER_RUNTIME_DIR=str(tmp_path/'run'),
               JUPYTER_DATA_DIR=str(tmp_path/'data'), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'ws'), MPLBACKEND='Agg')
    p = subprocess.Popen(['bash', 'scripts/jupyter.sh', '--no-browser', '--ip', '127.0.0.1', '--port', str(port),
                          f'--IdentityProvider.token={token}', '--ServerApp.port_retries=0'],
                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    srv, procs, kid = Server(port, token), set(), None
    try:
        for _ in range(600):   # up to 60 s
            procs.update(_children(p.pid))
            assert p.poll() is None, "JupyterLab stopped:\n" + (tmp_path/'jupyter.log').read_text()[-3000:]
            try:
                if srv.api('GET', '/api/status')[0] == 200: break
            except OSError: time.sleep(0.1)
        else: pytest.fail("JupyterLab did not answer in 60 s:\n" + (tmp_path/'jupyter.log').read_text()[-3000:])
        started = time.time() - t0
        # the address to open is printed, and it opens the lessons (a token given on the command line is shown as ...)
        logtext = (tmp_path/'jupyter.log').read_text()
        assert f'http://127.0.0.1:{port}/lab/tree/nbs?token=' in logtext, logtext[-2000:]
        st, lessons = srv.api('GET', '/api/contents/nbs')
        names = sorted(c['name'] for c in lessons['content'] if c['type'] == 'notebook')
        assert st == 200 and 'index.ipynb' in names and len([n for n in names if re.match(r'\d\d_', n)]) >= 10, names
        lesson = next(n for n in names if re.match(r'0[1-9]_', n))
        nb = srv.api('GET', f'/api/contents/nbs/{lesson}?content=1')[1]['content']
        # a kernel, through the API, running the lesson's first code cells and then a small computation
        st, k = srv.api('POST', '/api/kernels', {'name': 'python3', 'path': 'nbs'}); kid = k['id']
        assert st == 201 and k['name'] == 'python3'
        procs.update(_children(p.pid))
        cells = _first_code_cells(nb)
        check_code = ("import learner_course, torch\n"
                      "print(learner_course.__version__, torch.__version__)\n"
                      "(torch.arange(4.).reshape(2, 2) @ torch.ones(2, 2)).sum().item()")
        ws = f'ws://127.0.0.1:{port}/api/kernels/{kid}/channels?session_id={uuid.uuid4().hex}&token={token}'
        t1 = time.time()
        res = asyncio.run(_execute(ws, cells + [check_code]))
        ran = time.time() - t1
        for code, (status, _, _, error) in zip(cells + [check_code], res):
            assert status == 'ok', f"{lesson}: this cell failed in the kernel ({error}):\n{code}"
        assert len(res) == len(cells) + 1
        status, stdout, result, _ = res[-1]
        import learner_course
        assert stdout.split()[0] == learner_course.__version__ and result == '12.0'
        procs.update(_children(p.pid))
        assert srv.api('DELETE', f'/api/kernels/{kid}')[0] == 204; kid = None
        assert srv.api('GET', '/api/kernels')[1] == []
        # the server stops when asked
        srv.api('POST', '/api/shutdown')
        p.wait(timeout=20)
        print(f"\nJupyterLab answered after {started:.1f} s; {len(cells)} cells of {lesson} + the check ran in {ran:.1f} s")
    finally:
        if kid is not None:
            try: srv.api('DELETE', f'/api/kernels/{kid}')
            except OSError: pass
        procs.update(_children(p.pid))
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try: p.wait(timeout=10)
            except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
        deadline = time.time() + 10
        while any(_alive(q) for q in procs) and time.time() < deadline: time.sleep(0.1)
        left = [q for q in procs if _alive(q)]
        for q in left:
            try: os.kill(q, signal.SIGKILL)
            except OSError: pass
        log.close()
    assert not left, f"processes left behind: {left}"
