"""nbdev's notebook processing for docs, without Quarto: what `nbdev_docs` runs on each notebook before it calls Quarto
(`nbdev.serve.proc_nbs` -> `nbdev.processors.FilterDefaults`), one notebook at a time so that every failure is reported.

    .venv/bin/python scripts/check_docs.py [nbs/05_learner.ipynb ...]

At docs time nbdev executes only some cells (`exec_show_docs`): those with `#| export`, `#| exporti`, `#| exports` or
`#| exec_doc`, those calling `show_doc`, and every cell containing an import statement. A cell that imports *and*
does other work is executed (nbdev warns "Found cells containing imports and other code"), but the cells before it that
define what it uses are not, hence `NameError`s. Fix: imports in cells that hold only imports; test and demo cells
without import statements (move their imports up); helpers that executed cells need behind `#| exec_doc` or exported.
Exit status 1 if a notebook fails or has such a mixed cell."""
import glob, os, sys, time, warnings
os.environ['IN_TEST'] = '1'                     # as nbdev's own docs driver sets it
os.environ.setdefault('MPLBACKEND', 'Agg')
from execnb.nbio import read_nb
from nbdev.processors import FilterDefaults

def check(path):
    "Process one notebook as nbdev_docs would; return (error or None, [first lines of mixed import cells])."
    nb = read_nb(path)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try: FilterDefaults()(nb); err = None
        except Exception as e: err = e
    mixed = [str(w.message).split('---\n')[1].split('\n')[0] for w in ws if 'imports and other code' in str(w.message)]
    return err, mixed

if __name__ == '__main__':
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    bad = 0
    for p in sys.argv[1:] or sorted(glob.glob('nbs/**/*.ipynb', recursive=True)):
        t = time.time(); err, mixed = check(p)
        cause = f" <- {type(err.__cause__).__name__}: {err.__cause__}" if err is not None and err.__cause__ else ''
        print(f"{p}: {'ok' if err is None else 'ERROR ' + str(err).splitlines()[0] + cause} ({time.time() - t:.1f} s)")
        for m in mixed: print(f"    cell with imports and other code, starting: {m!r}")
        bad += err is not None or bool(mixed)
    sys.exit(1 if bad else 0)
