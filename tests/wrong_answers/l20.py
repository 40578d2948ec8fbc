"Lesson 20 (the final model): plausible wrong answers. Each runs in `learner_course.exercises.l20`."

WRONG = {
    'accuracy_by_hand': [
        ('no eval mode', '''
def accuracy_by_hand(model, dl):
    right = total = 0
    with torch.no_grad():
        for x, y in dl:
            right += (model(x).argmax(1) == y).sum().item(); total += len(y)
    return right / total
''', 'training mode while you measured'),
        ('no torch.no_grad', '''
def accuracy_by_hand(model, dl):
    was = model.training; model.eval()
    right = total = 0
    for x, y in dl:
        right += (model(x).argmax(1) == y).sum().item(); total += len(y)
    model.train(was)
    return right / total
''', 'gradients were tracked'),
        ('mean of the per-batch accuracies', '''
def accuracy_by_hand(model, dl):
    was = model.training; model.eval()
    with torch.no_grad():
        accs = [(model(x).argmax(1) == y).float().mean().item() for x, y in dl]
    model.train(was)
    return sum(accs) / len(accs)
''', 'mean of the per-batch accuracies'),
        ('model left in eval mode', '''
def accuracy_by_hand(model, dl):
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in dl:
            right += (model(x).argmax(1) == y).sum().item(); total += len(y)
    return right / total
''', 'put back the mode it had'),
        ('model always put back in training mode', '''
def accuracy_by_hand(model, dl):
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in dl:
            right += (model(x).argmax(1) == y).sum().item(); total += len(y)
    model.train()
    return right / total
''', 'was in eval mode before you measured'),
        ('first batch only', '''
def accuracy_by_hand(model, dl):
    was = model.training; model.eval()
    with torch.no_grad():
        x, y = next(iter(dl))
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train(was)
    return acc
''', 'first batch only'),
        ('a percentage', '''
def accuracy_by_hand(model, dl):
    was = model.training; model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in dl:
            right += (model(x).argmax(1) == y).sum().item(); total += len(y)
    model.train(was)
    return 100 * right / total
''', 'a percentage'),
    ],
    'my_recipe': [
        ('over the budget: more epochs', '''
def my_recipe(dls):
    learn = Learner(resnet((16, 32, 64)), dls, F.cross_entropy, lr=1e-2, opt_func=torch.optim.AdamW,
                    cbs=[OneCycleLR(max_lr=1e-2)])
    return learn, 6
''', 'over the budget'),
        ('over the budget: smaller batches, more steps per epoch', '''
def my_recipe(dls):
    small = DataLoader(dls.train.dataset, batch_size=16, shuffle=True)
    learn = Learner(resnet((16, 32, 64)), (small, dls.valid), F.cross_entropy, lr=1e-2, opt_func=torch.optim.AdamW,
                    cbs=[OneCycleLR(max_lr=1e-2)])
    return learn, 3
''', 'smaller batches mean more steps'),
        ('below the baseline: the baseline itself, one epoch short to save budget', '''
def my_recipe(dls):
    learn, epochs = baseline_recipe(dls)
    return learn, epochs - 1
''', 'points below the target'),
        ('a learning rate far too small: nothing learnt', '''
def my_recipe(dls):
    return Learner(simple_cnn(norm=nn.BatchNorm2d), dls, F.cross_entropy, lr=1e-6, opt_func=torch.optim.AdamW), 1
''', 'about chance'),
        ('trains inside the recipe', '''
def my_recipe(dls):
    learn = Learner(resnet((16, 32, 64)), dls, F.cross_entropy, lr=1e-2, opt_func=torch.optim.AdamW)
    with learn.no_logging(): learn.fit(2)
    return learn, 2
''', 'before it returned the Learner'),
        ('returns the model, not a Learner', '''
def my_recipe(dls):
    return resnet((16, 32, 64)), 3
''', 'should return (learn, epochs)'),
    ],
}
