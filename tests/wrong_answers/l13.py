"Wrong answers for lesson 13's exercise (see README.md)."
_HEAD = '''
class SmoothedLoss(Callback):
    order = 60
    def __init__(self, beta=0.9): self.beta, self.avg, self.n, self.history = beta, 0., 0, []
    def after_batch(self):
        if not self.training or self.loss is None: return
        self.n += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * self.loss.item()
        self.history.append(self.avg / (1 - self.beta ** self.n))
'''
WRONG = {
 'SmoothedLoss': [
  ('saves the whole __dict__ (the learner with it)', _HEAD + '''
    def state_dict(self): return self.__dict__
    def load_state_dict(self, sd): self.__dict__.update(sd)
''', '`learn`, the whole Learner'),
  ('the batch count n left out', _HEAD + '''
    def state_dict(self): return {'avg': self.avg, 'history': list(self.history)}
    def load_state_dict(self, sd): self.avg, self.history = sd['avg'], list(sd['history'])
''', '`n`'),
  ('state_dict returns the live history list', _HEAD + '''
    def state_dict(self): return {'avg': self.avg, 'n': self.n, 'history': self.history}
    def load_state_dict(self, sd): self.avg, self.n, self.history = sd['avg'], sd['n'], list(sd['history'])
''', 'return a copy'),
  ('load_state_dict keeps the given list', _HEAD + '''
    def state_dict(self): return {'avg': self.avg, 'n': self.n, 'history': list(self.history)}
    def load_state_dict(self, sd): self.avg, self.n, self.history = sd['avg'], sd['n'], sd['history']
''', 'kept the list it was given'),
  ('load_state_dict restores only the history', _HEAD + '''
    def state_dict(self): return {'avg': self.avg, 'n': self.n, 'history': list(self.history)}
    def load_state_dict(self, sd): self.history = list(sd['history'])
''', '`avg`'),
 ],
}
