"Shared pytest set-up: quiet, headless, and sized for a 2-core CPU."
import os, warnings
os.environ.setdefault('MPLBACKEND', 'Agg')
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
if os.environ.get('PYTEST_XDIST_WORKER'):   # several test workers share the cores: one torch thread each
    os.environ.setdefault('LC_TORCH_THREADS', '1')
torch.set_num_threads(int(os.environ.get('LC_TORCH_THREADS', 0)) or min(2, os.cpu_count() or 1))
