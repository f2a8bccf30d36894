"""nodegrad's optimizers, learning-rate schedulers, the Solver training loop and sweeps of Solver configurations.

>>> import numpy as np, autograd as ag, optim
>>> w = ag.tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); opt.zero_grad()
>>> w.value.tolist()
[0.800000011920929, -1.600000023841858]
"""

from optim.adadelta import Adadelta
from optim.adagrad import Adagrad
from optim.adam import Adam, AdamW
from optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from optim.optimizer import Optimizer
from optim.rmsprop import RMSprop
from optim.sgd import SGD
from optim.solver import Solver
from optim.sweeps import grid, log_uniform, random_configs, run_config, sweep, uniform

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SGD",
    "SequentialLR",
    "Solver",
    "StepLR",
    "grid",
    "log_uniform",
    "random_configs",
    "run_config",
    "sweep",
    "uniform",
]
