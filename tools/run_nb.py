"""Execute lesson notebooks in place with a real Jupyter kernel, so committed notebooks carry their outputs.

Usage: python tools/run_nb.py nbs/03_learner.ipynb [more.ipynb ...]
Prints each notebook's wall time. Run `nbdev_clean` afterwards.
"""
import os, sys, time
import nbformat
from nbclient import NotebookClient

def run(path, timeout=1800):
    "Run every cell of the notebook at `path` (cwd = its folder) and save it with outputs."
    nb = nbformat.read(path, as_version=4)
    t0 = time.time()
    NotebookClient(nb, timeout=timeout, kernel_name='python3',
                   resources={'metadata': {'path': os.path.dirname(os.path.abspath(path))}}).execute()
    nbformat.write(nb, path)
    print(f'{path}: {time.time()-t0:.1f}s', flush=True)

if __name__ == '__main__':
    for p in sys.argv[1:]: run(p)
