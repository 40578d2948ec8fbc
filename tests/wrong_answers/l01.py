"Wrong answers to lesson 01's exercises (see README.md): the slips a learner makes in one SGD-momentum or AdamW step."

_SGD = "def sgd_momentum_step(p, grad, buf, lr, momentum=0.9, weight_decay=0.):\n"
_ADAMW = "def adamw_step(p, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n    b1, b2 = betas\n"

WRONG = {
    'sgd_momentum_step': [
        ('weight decay forgotten', _SGD + """
    v = momentum * buf + grad
    return p - lr * v, v""", 'weight decay is missing'),
        ('weight decay added to the step, not the gradient', _SGD + """
    v = momentum * buf + grad
    return p - lr * (v + weight_decay * p), v""", 'applied to the step'),
        ('moving-average momentum (dampening)', _SGD + """
    v = momentum * buf + (1 - momentum) * (grad + weight_decay * p)
    return p - lr * v, v""", 'dampening'),
        ('step taken with the old velocity', _SGD + """
    new_p = p - lr * buf
    return new_p, momentum * buf + grad + weight_decay * p""", 'old velocity'),
        ('lr folded into the velocity', _SGD + """
    v = momentum * buf + lr * (grad + weight_decay * p)
    return p - v, v""", 'lr is inside the velocity'),
        ('momentum on the gradient instead of the velocity', _SGD + """
    v = buf + momentum * (grad + weight_decay * p)
    return p - lr * v, v""", 'momentum multiplies the gradient'),
        ('Nesterov by accident', _SGD + """
    d = grad + weight_decay * p
    v = momentum * buf + d
    return p - lr * (d + momentum * v), v""", 'Nesterov'),
        ('sign flipped', _SGD + """
    v = momentum * buf + grad + weight_decay * p
    return p + lr * v, v""", 'uphill'),
        ('in-place update', _SGD + """
    buf.mul_(momentum).add_(grad + weight_decay * p)
    p.sub_(lr * buf)
    return p, buf""", 'in place'),
        ('returns only the parameter', _SGD + """
    return p - lr * (momentum * buf + grad + weight_decay * p)""", 'should return a tuple'),
        ('returns (buf, p)', _SGD + """
    v = momentum * buf + grad + weight_decay * p
    return v, p - lr * v""", 'swapped'),
    ],
    'adamw_step': [
        ('eps inside the square root', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / (v / (1 - b2 ** t) + eps).sqrt(), m, v""", 'eps is inside the square root'),
        ('no bias correction', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * m / (v.sqrt() + eps), m, v""", 'bias correction is missing'),
        ('bias correction on m only', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / (v.sqrt() + eps), m, v""", 'only m is bias-corrected'),
        ('bias corrections swapped between the moments', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b2 ** t)) / ((v / (1 - b1 ** t)).sqrt() + eps), m, v""", 'wrong moments'),
        ('corrected moments kept as the state', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m = (b1 * m + (1 - b1) * grad) / (1 - b1 ** t)
    v = (b2 * v + (1 - b2) * grad * grad) / (1 - b2 ** t)
    return p - lr * m / (v.sqrt() + eps), m, v""", 'returned as the new state'),
        ('step count off by one (t + 1)', _ADAMW + """
    t = t + 1                                   # "t starts at 0"
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'wrong step'),
        ('step count off by one (t - 1)', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** (t - 1))) / ((v / (1 - b2 ** (t - 1))).sqrt() + eps), m, v""", 'wrong step'),
        ('weight decay through the gradient (Adam + L2)', _ADAMW + """
    grad = grad + weight_decay * p
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'Adam with L2'),
        ('weight decay forgotten', _ADAMW + """
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'weight decay is missing'),
        ('weight decay without lr', _ADAMW + """
    p = p * (1 - weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'not multiplied by lr'),
        ('weight decay after the step', _ADAMW + """
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    p = p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps)
    return p * (1 - lr * weight_decay), m, v""", 'after the Adam step'),
        ('v averages the gradient, not its square', _ADAMW + """
    p = p * (1 - lr * weight_decay)
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'instead of its square'),
        ('in-place update of the running averages', _ADAMW + """
    m.mul_(b1).add_((1 - b1) * grad); v.mul_(b2).add_((1 - b2) * grad * grad)
    p = p * (1 - lr * weight_decay)
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v""", 'in place'),
    ],
}
