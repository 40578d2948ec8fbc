"Shared pytest set-up: quiet, headless, and sized for a 2-core CPU."
import os, warnings
os.environ.setdefault('MPLBACKEND', 'Agg')
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
torch.set_num_threads(min(2, os.cpu_count() or 1))
