"Lesson 15 (debugging): plausible wrong fixes of the eight broken setups. Each runs in `learner_course.exercises.l15`."

WRONG = {
    'fix_1': [
        ('learning rate only halved', '''
def fix_1(setup):
    return {**setup, 'lr': setup['lr'] / 2}
''', 'too high'),
        ('learning rate far too low', '''
def fix_1(setup):
    return {**setup, 'lr': 1e-4}
''', 'too low'),
        ('changed the dict but returned nothing', '''
def fix_1(setup):
    setup['lr'] = 0.1
''', 'returned None'),
    ],
    'fix_2': [
        ('lower learning rate, gradients still never zeroed', '''
def fix_2(setup):
    return {**setup, 'lr': 0.001}
''', 'not zeroed between steps'),
        ('logging callback swapped for one that zeroes right after backward', '''
class ZeroAfterBackward(Callback):
    def after_backward(self): self.learn.opt.zero_grad()

def fix_2(setup):
    return {**setup, 'cbs': [ZeroAfterBackward()]}
''', 'no longer change the weights'),
        ('zero_grad called inside step, before opt.step()', '''
def fix_2(setup):
    Broken = type(setup['cbs'][0])
    class Fixed(Broken):
        def step(self):
            self.learn.opt.zero_grad()
            self.learn.opt.step()
    return {**setup, 'cbs': [Fixed()]}
''', 'no longer change the weights'),
    ],
    'fix_3': [
        ('ten outputs, but the regression loss kept', '''
def fix_3(setup):
    return {**setup, 'model': mlp(784, 64, 10)}
''', 'one number per image'),
        ('cross-entropy, but the model still has one output', '''
def fix_3(setup):
    return {**setup, 'loss_func': nn.CrossEntropyLoss(), 'lr': 0.1}
''', 'one score per class'),
        ('squared error against one-hot targets', '''
def fix_3(setup):
    def loss_func(pred, y): return F.mse_loss(pred, F.one_hot(y, 10).float())
    return {**setup, 'model': mlp(784, 64, 10), 'loss_func': loss_func, 'lr': 0.1}
''', 'one-hot'),
    ],
    'fix_4': [
        ('reshuffles the broken tensors together', '''
def fix_4(setup):
    xt, yt = setup['dls'].train.dataset.tensors
    xv, yv = setup['dls'].valid.dataset.tensors
    perm = torch.randperm(len(xt))
    return {**setup, 'dls': tensor_dls(xt[perm], yt[perm], xv, yv)}
''', 'not theirs'),
        ('lower learning rate, data untouched', '''
def fix_4(setup):
    return {**setup, 'lr': 0.01}
''', 'not theirs'),
        ('fresh data, shuffled again with two permutations', '''
def fix_4(setup):
    xt, yt, xv, yv = debug_data()
    xt, yt = xt[torch.randperm(len(xt))], yt[torch.randperm(len(yt))]
    return {**setup, 'dls': tensor_dls(xt, yt, xv, yv)}
''', 'not theirs'),
    ],
    'fix_5': [
        ('normalised inputs, sigmoids kept', '''
def fix_5(setup):
    return {**setup, 'dls': tensor_dls(*debug_data())}
''', 'vanish'),
        ('ReLU and Kaiming init on raw pixel bytes', '''
def fix_5(setup):
    model = mlp(784, 100, 100, 100, 100, 10)
    for m in model.modules():
        if isinstance(m, nn.Linear): nn.init.kaiming_normal_(m.weight, nonlinearity='relu'); nn.init.zeros_(m.bias)
    return {**setup, 'model': model}
''', 'still range from 0 to 255'),
        ('only the training images normalised', '''
def fix_5(setup):
    model = mlp(784, 100, 100, 100, 100, 10)
    for m in model.modules():
        if isinstance(m, nn.Linear): nn.init.kaiming_normal_(m.weight, nonlinearity='relu'); nn.init.zeros_(m.bias)
    xt, yt, _, _ = debug_data()
    xv, yv = setup['dls'].valid.dataset.tensors
    return {**setup, 'model': model, 'dls': tensor_dls(xt, yt, xv, yv)}
''', 'validation inputs still range'),
    ],
    'fix_6': [
        ('only the first layer re-initialised', '''
def fix_6(setup):
    setup['model'][1].reset_parameters()
    return setup
''', 'below zero for every image'),
        ('a higher learning rate', '''
def fix_6(setup):
    return {**setup, 'lr': 1.0}
''', 'below zero for every image'),
        ('LeakyReLU instead of ReLU, biases kept', '''
def fix_6(setup):
    model = setup['model']
    for i, m in enumerate(model):
        if isinstance(m, nn.ReLU): model[i] = nn.LeakyReLU(0.01)
    return setup
''', 'below zero for every image'),
    ],
    'fix_7': [
        ('a lower learning rate', '''
def fix_7(setup):
    return {**setup, 'lr': 1e-4}
''', 'explode'),
        ("PyTorch's default init", '''
def fix_7(setup):
    for m in setup['model'].modules():
        if isinstance(m, nn.Linear): m.reset_parameters()
    return setup
''', 'gradients fade'),
        ('a shallower model', '''
def fix_7(setup):
    return {**setup, 'model': mlp(784, 100, 10)}
''', 'keep the nine'),
    ],
    'fix_8': [
        ('callback dropped, flattening lost', '''
def fix_8(setup):
    return {**setup, 'cbs': []}
''', 'keep the flattening'),
        ('eval() before validation, the train() switch kept', '''
class EvalForValidation(Callback):
    order = -1
    def before_validate(self): self.learn.model.eval()

def fix_8(setup):
    return {**setup, 'cbs': setup['cbs'] + [EvalForValidation()]}
''', 'during validation the model is still in training mode'),
        ('dropout removed', '''
def fix_8(setup):
    for m in setup['model'].modules():
        if isinstance(m, nn.Dropout): m.p = 0.
    return setup
''', 'no dropout any more'),
        ('eval mode for every batch', '''
class FlattenEval(Callback):
    def before_batch(self):
        self.learn.xb = self.learn.xb.flatten(1)
        self.learn.model.eval()

def fix_8(setup):
    return {**setup, 'cbs': [FlattenEval()]}
''', 'during training the model is now in eval mode'),
    ],
}
