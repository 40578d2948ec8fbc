"""Make every lesson's "Open in Colab" badge and Colab install cell point at the repository named in settings.ini.

Publishing or forking the course is then one line — `git_url` (and `branch`) in settings.ini — followed by this
script, which the sync step of `scripts/test.sh` (and README, "Contributing") runs with the other generators; CI
fails when it would change anything.

Usage: python tools/colab_cells.py [--check]
"""
import json, re, sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BADGE = re.compile(r'https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/nbs/([^)\s]+\.ipynb)')
MARK = '# Colab: install the course package'

def settings():
    "(owner/repo, branch) from settings.ini's git_url and branch."
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8'); d = cfg['DEFAULT']
    m = re.match(r'https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?$', d['git_url'])
    if not m: raise SystemExit(f"settings.ini git_url must be https://github.com/<owner>/<repo>; got {d['git_url']!r}")
    return m.group(1), d.get('branch', 'main')

def install_cell(repo, branch, extra=''):
    "The source of the Colab install cell: install on Colab only, then say what to do if the package is missing."
    spec = f'learner_course{extra} @ git+https://github.com/{repo}.git@{branch}'
    return ('#| eval: false\n'
            f'{MARK} (does nothing elsewhere).\n'
            'import sys\n'
            "if 'google.colab' in sys.modules:\n"
            f'    %pip install -q "{spec}"\n'
            'try: import learner_course\n'
            'except ModuleNotFoundError:\n'
            '    raise ModuleNotFoundError("learner_course is not installed in this kernel. On Colab: run this cell again "\n'
            '        "(if pip failed, check Runtime > Manage sessions and retry). Locally: start Jupyter with "\n'
            '        "`bash scripts/jupyter.sh` from a clone of the repository, which installs it and its kernel.") from None')

def fixed(nb, repo, branch):
    "The notebook with its badge and install cell made canonical; whether anything changed."
    changed = False
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        new = src
        if c['cell_type'] == 'markdown':
            new = BADGE.sub(lambda m: f'https://colab.research.google.com/github/{repo}/blob/{branch}/nbs/{m.group(1)}', src)
        elif MARK in src:
            extra = re.search(r'learner_course(\[\w+\])', src)
            new = install_cell(repo, branch, extra.group(1) if extra else '')
        if new != src: c['source'] = new; changed = True
    return nb, changed

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    repo, branch = settings()
    stale = []
    for p in sorted((ROOT/'nbs').glob('*.ipynb')):
        nb, changed = fixed(json.loads(p.read_text(encoding='utf-8')), repo, branch)
        if not changed: continue
        stale.append(p.name)
        if '--check' not in argv: p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    if '--check' in argv and stale:
        print(f"badges/install cells do not match settings.ini ({repo}@{branch}) in: {', '.join(stale)}. "
              "Fix: python tools/colab_cells.py"); return 1
    print(f"{'would fix' if '--check' in argv else 'fixed'} {len(stale)} notebooks; repository {repo}@{branch}")
    return 0

if __name__ == '__main__': sys.exit(main())
