"The `learner-course-train` command (learner_course.train.main): a quick run writes readable plots and a loadable model."
import json, subprocess, sys
from pathlib import Path
import pytest
import torch
import torch.nn.functional as F
from learner_course.learner import Learner
from learner_course.layers import ResidualBlock, conv_bn
from learner_course.train import main, run, get_model, FinalResult
from learner_course.accel import MixedPrecision, ChannelsLast
from learner_course.inference import tta_preds

PNGS = ('losses.png', 'metrics.png', 'lr.png', 'confusion.png')

def test_final_model_is_built_from_lesson_18_blocks():
    "One residual block and one conv-BN helper: the final model uses `layers`' own."
    m = get_model()
    assert [type(b) for b in m[1:4]] == [ResidualBlock] * 3
    assert [type(x) for x in m[0]] == [type(x) for x in conv_bn(1, 16)]

def test_main_quick_run_writes_outputs(tmp_path, capsys):
    out = tmp_path/'run'
    res = run(['--subset', '2000', '--epochs', '1', '--bs', '64', '--out', str(out), '--no-progress'])
    printed = capsys.readouterr().out
    assert 'test accuracy' in printed and str(out.resolve()) in printed
    for what in ('device', 'threads', 'precision', 'layout'): assert f'  {what} ' in printed, what   # the path taken, and why
    assert isinstance(res, FinalResult) and isinstance(res.learn, Learner) and res.epochs == 1
    assert res.evaluated_on == 'test' and len(res.targs) == len(res.learn.dls.valid.dataset)
    assert res.accuracy == (res.preds.argmax(-1) == res.targs).float().mean().item() and res.train_seconds > 0 and res.cpu_seconds > 0
    assert 'accuracy' not in res.learn.recorder.values[-1]   # the test set was not looked at during training
    assert res.layout == 'channels_last' and res.precision in ('float32', 'bfloat16', 'float16')
    assert set(res.outputs) >= {'losses', 'metrics', 'lr', 'confusion', 'model', 'summary'}
    import matplotlib.image as mpimg
    for name in PNGS + (('activations.png',) if 'activations' in res.outputs else ()):
        img = mpimg.imread(out/name)             # a real, readable PNG
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, name
    s = json.loads((out/'summary.json').read_text())
    assert 0.3 < s['accuracy'] <= 1 and s['epochs'] == 1 and len(s['history']) == 1
    assert (s['precision'], s['layout'], s['device']) == (res.precision, 'channels_last', res.device)
    state = torch.load(out/'model.pth', weights_only=True)   # no map_location: CPU tensors load anywhere
    assert {t.device.type for t in state['model'].values()} == {'cpu'}
    same_way = ([MixedPrecision(verbose=False)] if res.precision != 'float32' else []) + [ChannelsLast()]
    l2 = Learner(get_model(), res.learn.dls, F.cross_entropy, cbs=same_way)
    l2.load(out/'model.pth')                    # the saved weights fit the model and predict like the trained one
    torch.testing.assert_close(l2.get_preds()[0], res.learn.get_preds()[0])
    p2, t2 = tta_preds(l2, l2.dls.valid)        # the reported accuracy is the flip-averaged one (the recipe's TTA)
    assert abs((p2.argmax(-1) == t2).float().mean().item() - s['accuracy']) < 1e-6

def test_main_returns_exit_status_zero(tmp_path):
    "`main` is the console script: it must return 0, not the Learner (which `sys.exit` would print and fail on)."
    assert main(['--subset', '1000', '--epochs', '1', '--bs', '64', '--out', str(tmp_path), '--no-progress']) == 0

def test_main_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit): main(['--epochs', 'two'])
    assert "argument --epochs: 'two' is not an integer" in capsys.readouterr().err
    with pytest.raises(SystemExit): main(['--threads', '0'])
    assert 'argument --threads: 0 must be above 0' in capsys.readouterr().err

def test_fp32_and_layout_flags(tmp_path):
    "--fp32 and --no-channels-last switch the speed-ups off, and the summary says so."
    run(['--subset', '1000', '--epochs', '1', '--bs', '64', '--out', str(tmp_path), '--no-progress', '--fp32', '--no-channels-last'])
    s = json.loads((tmp_path/'summary.json').read_text())
    assert (s['precision'], s['layout']) == ('float32', 'contiguous')
    state = torch.load(tmp_path/'model.pth', weights_only=True)
    weights = [t for t in state.get('model', state).values() if t.dim() == 4 and t.shape[1] > 1]
    assert weights and all(t.is_contiguous() for t in weights)   # trained and saved in the default NCHW layout

def test_bad_label_smoothing_is_refused(tmp_path):
    with pytest.raises(ValueError, match='label_smoothing=1.5'):
        main(['--subset', '1000', '--epochs', '1', '--bs', '64', '--out', str(tmp_path), '--label-smoothing', '1.5'])
    assert not any(tmp_path.iterdir())           # nothing written

def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit): main(['--help'])
    txt = capsys.readouterr().out
    for opt in ('--epochs', '--bs', '--lr', '--out', '--subset', '--holdout', '--seed', '--threads', '--fp32', '--label-smoothing'): assert opt in txt

def test_module_entry_point_runs():
    "`python -m learner_course.train --help` reaches main (the __main__ guard works)."
    r = subprocess.run([sys.executable, '-m', 'learner_course.train', '--help'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and '--subset' in r.stdout, r.stderr
