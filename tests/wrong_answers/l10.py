"Wrong answers a learner writes for lesson 10's exercises (format: tests/wrong_answers/README.md)."

def _kaiming(std_expr, draw='torch.randn(shape)'):
    return ("def kaiming_by_hand(shape, leak=0.):\n"
            "    fan_in = math.prod(shape[1:])\n"
            "    fan_out = shape[0] * math.prod(shape[2:])\n"
            f"    return {draw} * ({std_expr})\n")

def _relu(body):
    return ("class GeneralRelu(nn.Module):\n"
            "    def __init__(self, leak=None, sub=None, maxv=None):\n"
            "        super().__init__()\n"
            "        self.leak, self.sub, self.maxv = leak, sub, maxv\n"
            "    def forward(self, x):\n" + body)

WRONG = {
    'kaiming_by_hand': [
        ('fan_out instead of fan_in', _kaiming('math.sqrt(2 / ((1 + leak ** 2) * fan_out))'), 'fan_out'),
        ('gain sqrt(2) missing', _kaiming('math.sqrt(1 / ((1 + leak ** 2) * fan_in))'), 'gain √2 missing'),
        ('leak ignored in the gain', _kaiming('math.sqrt(2 / fan_in)'), 'leak left out'),
        ('(1 + leak) instead of (1 + leak^2)', _kaiming('math.sqrt(2 / ((1 + leak) * fan_in))'), '(1 + leak) instead'),
        ('conv fan_in from the input channels only', _kaiming('math.sqrt(2 / ((1 + leak ** 2) * shape[1]))'), 'input channels only'),
        ('the variance used as the std', _kaiming('2 / ((1 + leak ** 2) * fan_in)'), 'variance used as the std'),
        ('uniform with the right std', _kaiming('math.sqrt(3) * math.sqrt(2 / ((1 + leak ** 2) * fan_in))',
                                                draw='(torch.rand(shape) * 2 - 1)'), 'uniform distribution'),
        ('uniform with bound = std', _kaiming('math.sqrt(2 / ((1 + leak ** 2) * fan_in))',
                                              draw='(torch.rand(shape) * 2 - 1)'), 'uniform draw'),
    ],
    'GeneralRelu': [
        ('subtracts before the leak', _relu(
            "        if self.sub is not None: x = x - self.sub\n"
            "        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)\n"
            "        return x.clamp(max=self.maxv) if self.maxv is not None else x\n"), 'before the activation'),
        ('clamps at maxv before subtracting sub', _relu(
            "        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)\n"
            "        if self.maxv is not None: x = x.clamp(max=self.maxv)\n"
            "        return x - self.sub if self.sub is not None else x\n"), 'clamping at `maxv` before subtracting'),
        ('the leak applied in place on the input', _relu(
            "        x = F.leaky_relu(x, self.leak, inplace=True) if self.leak is not None else F.relu(x, inplace=True)\n"
            "        if self.sub is not None: x = x - self.sub\n"
            "        return x.clamp(max=self.maxv) if self.maxv is not None else x\n"), 'in place'),
        ('clamp(min=maxv)', _relu(
            "        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)\n"
            "        if self.sub is not None: x = x - self.sub\n"
            "        return x.clamp(min=self.maxv) if self.maxv is not None else x\n"), 'clamp(min=maxv)'),
        ("leaky_relu's default slope when leak is None", _relu(
            "        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.leaky_relu(x)\n"
            "        if self.sub is not None: x = x - self.sub\n"
            "        return x.clamp(max=self.maxv) if self.maxv is not None else x\n"), 'default slope'),
    ],
}
