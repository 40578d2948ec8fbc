"Wrong answers a learner writes for lesson 14's exercises (see README.md)."

WRONG = {
'accumulate_grads': [
    ('loss not divided by n_acc', '''
def accumulate_grads(model, opt, loss_func, xb, yb, n_acc):
    total = 0.
    for x, y in zip(torch.chunk(xb, n_acc), torch.chunk(yb, n_acc)):
        loss = loss_func(model(x), y)
        loss.backward()
        total += loss.item()
    opt.step(); opt.zero_grad()
    return total / n_acc
''', 'not divided by n_acc'),
    ('zero_grad inside the loop', '''
def accumulate_grads(model, opt, loss_func, xb, yb, n_acc):
    total = 0.
    for x, y in zip(torch.chunk(xb, n_acc), torch.chunk(yb, n_acc)):
        opt.zero_grad()
        loss = loss_func(model(x), y)
        (loss / n_acc).backward()
        total += loss.item()
    opt.step()
    opt.zero_grad()
    return total / n_acc
''', 'zeroed inside the loop'),
    ('stepping every micro-batch', '''
def accumulate_grads(model, opt, loss_func, xb, yb, n_acc):
    total = 0.
    for x, y in zip(torch.chunk(xb, n_acc), torch.chunk(yb, n_acc)):
        loss = loss_func(model(x), y)
        (loss / n_acc).backward()
        opt.step()
        total += loss.item()
    opt.zero_grad()
    return total / n_acc
''', 'once for every micro-batch'),
    ('gradients left after the step', '''
def accumulate_grads(model, opt, loss_func, xb, yb, n_acc):
    total = 0.
    for x, y in zip(torch.chunk(xb, n_acc), torch.chunk(yb, n_acc)):
        loss = loss_func(model(x), y)
        (loss / n_acc).backward()
        total += loss.item()
    opt.step()
    return total / n_acc
''', 'still there after the step'),
    ('returns the divided loss', '''
def accumulate_grads(model, opt, loss_func, xb, yb, n_acc):
    total = 0.
    for x, y in zip(torch.chunk(xb, n_acc), torch.chunk(yb, n_acc)):
        loss = loss_func(model(x), y) / n_acc
        loss.backward()
        total += loss.item()
    opt.step(); opt.zero_grad()
    return total / n_acc
''', 'divided loss'),
],
'unscale_clip_': [
    ('clipping before unscaling', '''
def unscale_clip_(params, scale, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads: g.mul_(max_norm / norm)
    for g in grads: g.div_(scale)
    return all(torch.isfinite(g).all() for g in grads)
''', 'clipping before unscaling'),
    ('unscaling twice', '''
def unscale_clip_(params, scale, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    for g in grads: g.div_(scale)
    if not all(torch.isfinite(g).all() for g in grads): return False
    grads = [g.div_(scale) for g in grads]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads: g.mul_(max_norm / norm)
    return True
''', 'unscaling twice'),
    ('ignoring inf gradients', '''
def unscale_clip_(params, scale, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    for g in grads: g.div_(scale)
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads: g.mul_(max_norm / norm)
    return True
''', 'ignoring inf'),
    ('isinf misses NaN', '''
def unscale_clip_(params, scale, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    for g in grads: g.div_(scale)
    if any(torch.isinf(g).any() for g in grads): return False
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads: g.mul_(max_norm / norm)
    return True
''', 'ignoring NaN'),
    ('each parameter clipped on its own', '''
def unscale_clip_(params, scale, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    for g in grads: g.div_(scale)
    if not all(torch.isfinite(g).all() for g in grads): return False
    for g in grads:
        n = g.norm()
        if n > max_norm: g.mul_(max_norm / n)
    return True
''', 'each parameter'),
    ('parameters without a gradient not skipped', '''
def unscale_clip_(params, scale, max_norm):
    for p in params: p.grad.div_(scale)
    if not all(torch.isfinite(p.grad).all() for p in params): return False
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
    if norm > max_norm:
        for p in params: p.grad.mul_(max_norm / norm)
    return True
''', '.grad is None'),
],
}
