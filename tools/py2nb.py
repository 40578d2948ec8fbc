"""Turn a percent-format script (`# %%` code cells, `# %% [markdown]` prose cells) into a notebook.

Authoring aid only: the notebook it writes is the source of truth, and is what gets committed.
Usage: python tools/py2nb.py draft.py nbs/03_learner.ipynb
"""
import hashlib, re, sys
import nbformat

def cells_from_percent(text):
    "Split percent-format text into (kind, source) pairs."
    cells, kind, buf = [], None, []
    def flush():
        if kind is not None:
            src = '\n'.join(buf).strip('\n')
            if kind == 'markdown': src = '\n'.join(re.sub(r'^# ?', '', l) for l in src.split('\n'))
            if src.strip(): cells.append((kind, src))
    for line in text.split('\n'):
        m = re.match(r'^# %%( \[markdown\])?\s*$', line)
        if m:
            flush(); kind = 'markdown' if m.group(1) else 'code'; buf = []
        else: buf.append(line)
    flush()
    return cells

def convert(src_path, dest_path):
    "Write the notebook for `src_path` to `dest_path`, with cell ids stable across re-runs."
    text = open(src_path, encoding='utf-8').read()
    nb = nbformat.v4.new_notebook()
    nb.metadata = {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}
    stem = dest_path.rsplit('/', 1)[-1]
    for i, (kind, src) in enumerate(cells_from_percent(text)):
        cid = hashlib.md5(f'{stem}-{i}'.encode()).hexdigest()[:8]
        cell = nbformat.v4.new_markdown_cell(src) if kind == 'markdown' else nbformat.v4.new_code_cell(src)
        cell.id = cid
        nb.cells.append(cell)
    nbformat.write(nb, dest_path)

if __name__ == '__main__': convert(sys.argv[1], sys.argv[2])
