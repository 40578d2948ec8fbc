"Lesson 19 (transfer learning): plausible wrong answers. Each runs in `learner_course.exercises.l19`."

WRONG = {
    'GradualUnfreeze': [
        ('unfreezing all groups at once', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self): freeze(self.learn, until=0)
''', 'unfroze all groups at once'),
        ('freezing the model only: the optimizer is never re-created', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self):
        n = len(layer_groups(self.learn.model))
        freeze(self.learn.model, until=max(n - 1 - self.epoch, 0))
''', 'optimizer does not hold them'),
        ('requires_grad set by hand, optimizer left as it was', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self):
        groups = layer_groups(self.learn.model)
        for i, g in enumerate(groups):
            for p in g.parameters(): p.requires_grad_(i >= len(groups) - 1 - self.epoch)
''', 'optimizer does not hold them'),
        ('frozen groups put in eval mode (BatchNorm statistics frozen too)', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_train(self):
        groups = layer_groups(self.learn.model)
        first = max(len(groups) - 1 - self.epoch, 0)
        freeze(self.learn, until=first)
        for g in groups[:first]: g.eval()
''', 'eval mode while training'),
        ('BatchNorm left trainable in frozen groups', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self):
        groups = layer_groups(self.learn.model)
        freeze(self.learn, until=max(len(groups) - 1 - self.epoch, 0))
        for m in self.learn.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm): m.requires_grad_(True)
        self.learn.create_opt()
''', 'its BatchNorm layers are trainable'),
        ('a counter kept across fits', '''
class GradualUnfreeze(Callback):
    order = -20
    n = 0
    def before_epoch(self):
        self.n += 1
        freeze(self.learn, until=max(len(layer_groups(self.learn.model)) - self.n, 0))
''', 'kept its state from the first fit'),
        ('off by one: epoch 0 trains the last two groups', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self):
        freeze(self.learn, until=max(len(layer_groups(self.learn.model)) - 2 - self.epoch, 0))
''', 'off-by-one'),
        ('unfreezing from the input side', '''
class GradualUnfreeze(Callback):
    order = -20
    def before_epoch(self):
        groups = layer_groups(self.learn.model)
        for i, g in enumerate(groups):
            for p in g.parameters(): p.requires_grad_(i <= self.epoch)
        self.learn.create_opt()
''', 'from the head down'),
    ],
}
