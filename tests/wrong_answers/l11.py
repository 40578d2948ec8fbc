"Wrong answers for lesson 11's exercises (see README.md)."
WRONG = {
 'triangular_lr': [
  ('peak one step early', '''
def triangular_lr(step, base_lr, max_lr, step_size):
    cycle = step // (2 * step_size)
    x = abs((step + 1) / step_size - 2 * cycle - 1)
    return base_lr + (max_lr - base_lr) * max(0., 1 - x)
''', 'off by one at the peak'),
  ('step_size taken as the whole cycle', '''
def triangular_lr(step, base_lr, max_lr, step_size):
    pos = (step % step_size) / step_size
    return base_lr + (max_lr - base_lr) * (1 - abs(2 * pos - 1))
''', 'half a cycle'),
  ('one triangle, no repeat', '''
def triangular_lr(step, base_lr, max_lr, step_size):
    x = abs(step / step_size - 1)
    return base_lr + (max_lr - base_lr) * max(0., 1 - x)
''', 'repeat'),
  ('never comes back down (stays at max_lr, then jumps)', '''
def triangular_lr(step, base_lr, max_lr, step_size):
    return base_lr + (max_lr - base_lr) * min(1., (step % (2 * step_size)) / step_size)
''', 'straight line'),
  ('cycle of 2*step_size + 1 steps (does not return to base_lr in time)', '''
def triangular_lr(step, base_lr, max_lr, step_size):
    pos = step % (2 * step_size + 1)
    return base_lr + (max_lr - base_lr) * (1 - abs(pos - step_size) / step_size)
''', 'repeat every 2*step_size'),
  ('returns a tensor', '''
import torch
def triangular_lr(step, base_lr, max_lr, step_size):
    cycle = step // (2 * step_size)
    x = torch.tensor(abs(step / step_size - 2 * cycle - 1))
    return base_lr + (max_lr - base_lr) * torch.clamp(1 - x, min=0.)
''', 'Python number'),
 ],
 'CosMomentum': [
  ('momentum moves the same way as the lr (start and end swapped)', '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end = start, end
    def before_fit(self): self.saved = [(pg.get('momentum'), pg.get('betas')) for pg in self.learn.opt.param_groups]
    def before_batch(self):
        if not self.training: return
        n = len(self.dls.train)
        mom = sched_cos(self.end, self.start, (self.epoch * n + self.iter) / max(1, self.n_epoch * n - 1))
        for pg in self.learn.opt.param_groups:
            if 'betas' in pg: pg['betas'] = (mom, pg['betas'][1])
            else: pg['momentum'] = mom
    def cleanup_fit(self):
        for pg, (m, b) in zip(self.learn.opt.param_groups, self.saved):
            if b is not None: pg['betas'] = b
            if m is not None: pg['momentum'] = m
''', 'the other way'),
  ('momentum not put back after the fit', '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end = start, end
    def before_batch(self):
        if not self.training: return
        n = len(self.dls.train)
        mom = sched_cos(self.start, self.end, (self.epoch * n + self.iter) / max(1, self.n_epoch * n - 1))
        for pg in self.learn.opt.param_groups:
            if 'betas' in pg: pg['betas'] = (mom, pg['betas'][1])
            else: pg['momentum'] = mom
''', 'put back the settings'),
  ('put back in after_fit, which a failing fit skips', '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end = start, end
    def before_fit(self): self.saved = [(pg.get('momentum'), pg.get('betas')) for pg in self.learn.opt.param_groups]
    def before_batch(self):
        if not self.training: return
        n = len(self.dls.train)
        mom = sched_cos(self.start, self.end, (self.epoch * n + self.iter) / max(1, self.n_epoch * n - 1))
        for pg in self.learn.opt.param_groups:
            if 'betas' in pg: pg['betas'] = (mom, pg['betas'][1])
            else: pg['momentum'] = mom
    def after_fit(self):
        for pg, (m, b) in zip(self.learn.opt.param_groups, self.saved):
            if b is not None: pg['betas'] = b
            if m is not None: pg['momentum'] = m
''', 'cleanup_fit'),
  ('a batch counter kept across fits', '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end, self.i = start, end, 0
    def before_fit(self): self.saved = [(pg.get('momentum'), pg.get('betas')) for pg in self.learn.opt.param_groups]
    def before_batch(self):
        if not self.training: return
        mom = sched_cos(self.start, self.end, self.i / max(1, self.n_epoch * len(self.dls.train) - 1))
        self.i += 1
        for pg in self.learn.opt.param_groups:
            if 'betas' in pg: pg['betas'] = (mom, pg['betas'][1])
            else: pg['momentum'] = mom
    def cleanup_fit(self):
        for pg, (m, b) in zip(self.learn.opt.param_groups, self.saved):
            if b is not None: pg['betas'] = b
            if m is not None: pg['momentum'] = m
''', 'state kept from the first fit'),
  ('position within the epoch instead of the fit', '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end = start, end
    def before_fit(self): self.saved = [(pg.get('momentum'), pg.get('betas')) for pg in self.learn.opt.param_groups]
    def before_batch(self):
        if not self.training: return
        mom = sched_cos(self.start, self.end, self.iter / max(1, len(self.dls.train) - 1))
        for pg in self.learn.opt.param_groups:
            if 'betas' in pg: pg['betas'] = (mom, pg['betas'][1])
            else: pg['momentum'] = mom
    def cleanup_fit(self):
        for pg, (m, b) in zip(self.learn.opt.param_groups, self.saved):
            if b is not None: pg['betas'] = b
            if m is not None: pg['momentum'] = m
''', 'starts again at every epoch'),
  ("Adam given a 'momentum' key", '''
class CosMomentum(Callback):
    def __init__(self, start=0.95, end=0.85): self.start, self.end = start, end
    def before_fit(self): self.saved = [pg.get('momentum') for pg in self.learn.opt.param_groups]
    def before_batch(self):
        if not self.training: return
        n = len(self.dls.train)
        mom = sched_cos(self.start, self.end, (self.epoch * n + self.iter) / max(1, self.n_epoch * n - 1))
        for pg in self.learn.opt.param_groups: pg['momentum'] = mom
    def cleanup_fit(self):
        for pg, m in zip(self.learn.opt.param_groups, self.saved):
            if m is None: pg.pop('momentum', None)
            else: pg['momentum'] = m
''', "pg['betas'][0]"),
 ],
}
