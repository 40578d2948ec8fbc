"Wrong answers for lesson 05's exercise (see README.md)."
WRONG = {
 'LossHistory': [
  ('lists created in __init__: state kept across fits', '''
class LossHistory(Callback):
    def __init__(self): self.train_losses, self.valid_losses = [], []
    def after_loss(self): (self.train_losses if self.training else self.valid_losses).append(self.loss.item())
''', 'not in `__init__`'),
  ('stores tensors, not floats', '''
class LossHistory(Callback):
    def before_fit(self): self.train_losses, self.valid_losses = [], []
    def after_loss(self): (self.train_losses if self.training else self.valid_losses).append(self.loss)
''', 'holds tensors'),
  ('both phases in one list', '''
class LossHistory(Callback):
    def before_fit(self): self.train_losses, self.valid_losses = [], []
    def after_loss(self): self.train_losses.append(self.loss.item()); self.valid_losses.append(self.loss.item())
''', 'losses of both phases'),
  ('only training batches recorded', '''
class LossHistory(Callback):
    def before_fit(self): self.train_losses, self.valid_losses = [], []
    def after_loss(self):
        if self.training: self.train_losses.append(self.loss.item())
''', 'valid'),
  ('new lists every epoch', '''
class LossHistory(Callback):
    def before_epoch(self): self.train_losses, self.valid_losses = [], []
    def after_loss(self): (self.train_losses if self.training else self.valid_losses).append(self.loss.item())
''', 'should give'),
 ],
}
